/**
 * Issue 13 items 3 and 10c against a real `heal web`: unauthenticated 300 MB bodies are refused while they
 * stream (413 or 401, promptly), web's peak RSS stays bounded, the refusal reaches the client instead of
 * a connection reset, and web keeps answering.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET } from '../e2e/stack.ts';
import { slackSignature } from '../support/fakeSlack.ts';
import { type ChaosStack, startChaosStack } from './stack.ts';

const TOKEN = 'limits-webhook-token-0123456789';
const MB = 1024 * 1024;

/** VmHWM (peak resident set) and VmRSS of a process, in MB. */
function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/** `total` bytes of JSON-ish filler, 64 KiB at a time, from one reused buffer (nothing big is allocated). */
function* filler(total: number): Generator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  chunk.write('{"x":"');
  for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
}

interface Outcome {
  status: number | string;
  ms: number;
  text: string;
}

/**
 * POSTs a streamed body of `total` bytes; resolves at the first answer (then stops sending) or error.
 * `declared`: send Content-Length (else chunked).
 */
function streamPost(
  url: string,
  total: number,
  opts: { declared: boolean; headers?: Record<string, string> },
): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let done = false;
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        ...(opts.declared ? { 'content-length': String(total) } : {}),
        ...opts.headers,
      },
    });
    const finish = (status: number | string, text: string) => {
      if (done) return;
      done = true;
      resolve({ status, ms: performance.now() - t0, text });
      req.destroy();
    };
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => finish(res.statusCode ?? 0, text));
      res.on('error', () => finish(res.statusCode ?? 0, text));
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish(`error ${err.code ?? err.message}`, ''));
    Readable.from(filler(total)).pipe(req);
  });
}

describe('request body limits (HEAL_MAX_BODY_BYTES, default 1 MiB)', () => {
  let stack: ChaosStack;
  beforeAll(async () => {
    stack = await startChaosStack({
      workers: 0,
      env: { HEAL_WEBHOOK_TOKEN: TOKEN, HEAL_WEBHOOK_CHANNEL: 'C0LIMITS', LOG_LEVEL: 'warn' },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('refuses four 300 MB unsigned bodies at once per route promptly, peak RSS < 300 MB, /healthz still ok', async () => {
    const pid = stack.web.child.pid as number;
    const before = memoryOf(pid);
    const total = 300 * MB;
    const sends = ['/slack/events', '/alerts/generic'].flatMap((path) =>
      [true, false, true, false].map(async (declared) => ({
        path,
        declared,
        ...(await streamPost(`${stack.base}${path}`, total, { declared })),
      })),
    );
    const results = await Promise.all(sends);
    const after = memoryOf(pid);
    for (const r of results)
      console.log(
        `${r.path} ${r.declared ? 'Content-Length' : 'chunked'} 300 MB: ${r.status} in ${r.ms.toFixed(0)} ms`,
      );
    console.log(
      `web RSS: ${before.rssMb.toFixed(0)} MB before, peak (VmHWM) ${after.peakMb.toFixed(0)} MB ` +
        `(peak before the test ${before.peakMb.toFixed(0)} MB), ${after.rssMb.toFixed(0)} MB after`,
    );
    for (const r of results) {
      expect([401, 413], `${r.path} ${r.declared}: ${r.status}`).toContain(r.status);
      expect(r.ms).toBeLessThan(5_000);
    }
    // Oversized bodies are refused as too large, whatever their signature.
    expect(results.filter((r) => r.declared).every((r) => r.status === 413)).toBe(true);
    expect(after.peakMb).toBeLessThan(300);
    expect(stack.web.child.exitCode).toBeNull();
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
  }, 60_000);

  it('a signed oversized request gets 413 with its JSON reason, not a reset (webhook and Slack)', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const slackHeaders = {
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': slackSignature(SECRET, ts, ''),
    };
    const cases = [
      { path: '/alerts/generic', headers: { authorization: `Bearer ${TOKEN}` } },
      { path: '/alerts/airflow', headers: { authorization: `Bearer ${TOKEN}` } },
      { path: '/slack/events', headers: slackHeaders },
    ];
    for (const c of cases)
      for (const declared of [true, false]) {
        const r = await streamPost(`${stack.base}${c.path}`, 8 * MB, { declared, headers: c.headers });
        console.log(
          `${c.path} ${declared ? 'Content-Length' : 'chunked'} 8 MB: ${r.status} in ${r.ms.toFixed(0)} ms`,
        );
        expect(r.status, `${c.path} ${declared}`).toBe(413);
        expect(JSON.parse(r.text)).toMatchObject({ ok: false, error: 'too_large' });
      }
    // Just under the cap is read and judged on its content (here: not JSON).
    const near = await streamPost(`${stack.base}/alerts/generic`, MB - 1024, {
      declared: true,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(near.status).toBe(400);
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
  }, 60_000);

  it('answers Expect: 100-continue with 413 before the body is sent', async () => {
    const res = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = request(`${stack.base}/alerts/generic`, {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': String(50 * MB),
          expect: '100-continue',
        },
      });
      req.on('continue', () => {
        continued = true;
      });
      req.on('response', (r) => {
        r.resume();
        resolve({ status: r.statusCode ?? 0, continued });
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(res).toEqual({ status: 413, continued: false });
  });
});
