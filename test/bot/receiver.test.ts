import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GuardOptions, guardRequests, refuseLargeContinues } from '../../src/bot/receiver.ts';
import { BodyBudget } from '../../src/bot/routes/body.ts';
import { checkEnvelope } from '../../src/bot/routes/slack-envelope.ts';
import { slackSignature } from '../support/fakeSlack.ts';

const SECRET = 'guard-test-secret';
const MAX = 64 * 1024;

describe('checkEnvelope: the shape Bolt reads before any listener', () => {
  it('refuses bodies that are not objects', () => {
    for (const v of [null, [], 'x', 1, true])
      expect(checkEnvelope(v)).toMatchObject({
        ok: false,
        error: expect.stringMatching(/must be a JSON object/),
      });
  });

  it('tells the kinds apart in Bolt order and refuses what would throw inside Bolt', () => {
    const user = { id: 'U1' };
    expect(checkEnvelope({ type: 'url_verification', challenge: 'c' })).toEqual({
      ok: true,
      kind: 'url_verification',
    });
    expect(checkEnvelope({ type: 'url_verification', challenge: { a: 1 } }).ok).toBe(false);
    expect(checkEnvelope({ event: { type: 'message', channel: 'C1' } })).toEqual({ ok: true, kind: 'event' });
    expect(checkEnvelope({ event: null }).ok).toBe(false);
    expect(checkEnvelope({ event: { type: 'message', channel: null } }).ok).toBe(false);
    expect(checkEnvelope({ event: { type: 'message', channel: 5 } }).ok).toBe(false);
    expect(checkEnvelope({ event: { type: 'x' }, authorizations: [null] }).ok).toBe(false);
    expect(checkEnvelope({ command: '/heal', text: 'help' })).toEqual({ ok: true, kind: 'command' });
    expect(checkEnvelope({ command: '/heal', text: ['a', 'b'] }).ok).toBe(false);
    expect(checkEnvelope({ type: 'block_actions', user, actions: [{ action_id: 'a' }] })).toEqual({
      ok: true,
      kind: 'action',
    });
    expect(checkEnvelope({ type: 'block_actions', user, actions: [] }).ok).toBe(false);
    expect(checkEnvelope({ type: 'block_actions', user, actions: [null] }).ok).toBe(false);
    expect(checkEnvelope({ type: 'block_actions', user: null, actions: [{}] }).ok).toBe(false);
    expect(checkEnvelope({ type: 'block_actions', user, channel: null, actions: [{}] }).ok).toBe(false);
    expect(checkEnvelope({ type: 'view_submission', user, view: { callback_id: 'x' } })).toEqual({
      ok: true,
      kind: 'view',
    });
    expect(checkEnvelope({ type: 'view_submission', user, view: null }).ok).toBe(false);
    expect(checkEnvelope({ type: 'view_submission', user, view: {}, response_urls: null }).ok).toBe(false);
    expect(checkEnvelope({ type: 'app_rate_limited', team_id: 'T1' })).toEqual({ ok: true, kind: 'other' });
  });
});

interface Sent {
  status: number | string;
  text: string;
}

function send(
  base: string,
  body: string | Buffer,
  headers: Record<string, string>,
  opts: { path?: string; chunked?: boolean } = {},
): Promise<Sent> {
  return new Promise((resolve) => {
    const req = request(`${base}${opts.path ?? '/slack/events'}`, { method: 'POST', agent: false, headers });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: `error ${err.code}`, text: '' }));
    if (opts.chunked) {
      // Chunked: written in pieces without a Content-Length.
      for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.slice(i, i + 16 * 1024));
      req.end();
    } else req.end(body);
  });
}

function signed(body: string, ts = Math.floor(Date.now() / 1000), type = 'json'): Record<string, string> {
  return {
    'content-type': type === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': slackSignature(SECRET, ts, body),
  };
}

describe('guardRequests in front of a request listener', () => {
  let server: Server;
  let base: string;
  const passed: Array<{ path: string; raw: string }> = [];
  const seen = new Map<string, number>();
  let claimFails = false;
  const budget = new BodyBudget(4 * MAX);
  const opts: GuardOptions = {
    signingSecret: SECRET,
    limits: { maxBytes: MAX, timeoutMs: 500, budget },
    bodyPaths: ['/alerts/generic'],
    claim: async (key, ttlMs) => {
      if (claimFails) throw new Error('redis down');
      if (seen.has(key)) return false;
      seen.set(key, ttlMs);
      return true;
    },
    log: pino({ level: 'silent' }),
  };

  beforeAll(async () => {
    server = createServer(
      guardRequests(opts, (req, res) => {
        const raw = (req as typeof req & { rawBody?: Buffer }).rawBody;
        passed.push({ path: req.url ?? '', raw: raw?.toString() ?? '(not read)' });
        res.writeHead(200).end('passed');
      }),
    );
    refuseLargeContinues(server, MAX);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    passed.length = 0;
    claimFails = false;
  });

  it('passes a signed request once, with its body read; a byte-identical replay gets an empty 200', async () => {
    const body = JSON.stringify({ type: 'event_callback', event: { type: 'message', channel: 'C1' } });
    const headers = signed(body);
    expect(await send(base, body, headers)).toEqual({ status: 200, text: 'passed' });
    expect(passed).toEqual([{ path: '/slack/events', raw: body }]);
    expect(await send(base, body, headers)).toEqual({ status: 200, text: '' });
    expect(passed).toHaveLength(1);
    // The key is the signature; its TTL covers the rest of the timestamp's window (plus a minute).
    const [key, ttl] = [...seen.entries()].at(-1) ?? [];
    expect(key).toBe(`slack:sig:${headers['x-slack-signature']}`);
    expect(ttl).toBeGreaterThan(300_000);
    expect(ttl).toBeLessThanOrEqual(361_000);
    // A Slack retry of an event (retry number set) is not a replay of its original: the event_id dedupe
    // of the listeners handles it.
    const retry = await send(base, body, { ...headers, 'x-slack-retry-num': '1' });
    expect(retry).toEqual({ status: 200, text: 'passed' });
  });

  it('refuses future-dated, stale, forged and unsigned requests with 401 without calling the listener', async () => {
    const body = JSON.stringify({ command: '/heal', text: 'help' });
    const now = Math.floor(Date.now() / 1000);
    for (const ts of [now + 301, now + 86_400, now - 301]) {
      const res = await send(base, body, signed(body, ts));
      expect(res.status, `ts ${ts - now}`).toBe(401);
    }
    expect((await send(base, body, { ...signed(body), 'x-slack-signature': 'v0=00' })).status).toBe(401);
    expect((await send(base, body, { 'content-type': 'application/json' })).status).toBe(401);
    // Within the window both ways: accepted.
    expect((await send(base, body, signed(body, now + 290))).status).toBe(200);
    expect(passed).toHaveLength(1);
  });

  it('refuses signed null, payload=null, [], "x", 1 with 400; lets an unsigned ssl_check through', async () => {
    const bodies: Array<[string, string]> = [
      ['null', 'json'],
      ['payload=null', 'form'],
      ['[]', 'json'],
      ['"x"', 'json'],
      ['1', 'json'],
      ['payload=%5B%5D', 'form'],
      ['{not json', 'json'],
    ];
    for (const [body, type] of bodies) {
      const res = await send(base, body, signed(body, undefined, type));
      expect(res.status, body).toBe(400);
      expect(JSON.parse(res.text).ok).toBe(false);
    }
    expect(passed).toEqual([]);
    const ssl = 'ssl_check=1&token=x';
    const res = await send(base, ssl, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(200);
    expect(passed).toHaveLength(1);
  });

  it('refuses an oversized body with a 413 the client receives (declared, chunked, 100-continue)', async () => {
    const big = Buffer.alloc(4 * MAX, 'a');
    for (const path of ['/slack/events', '/alerts/generic']) {
      const declared = await send(base, big, { 'content-length': String(big.length) }, { path });
      expect(declared.status, path).toBe(413);
      expect(JSON.parse(declared.text)).toMatchObject({ error: 'too_large' });
      expect((await send(base, big, {}, { path, chunked: true })).status, path).toBe(413);
    }
    const exact = Buffer.alloc(MAX, 'a');
    expect((await send(base, exact, {}, { path: '/alerts/generic', chunked: true })).status).toBe(200);
    expect(passed.map((p) => p.raw.length)).toEqual([MAX]);
    expect(budget.held).toBe(0);
  });

  it('skips the replay check when Redis fails (the listener answers), and 408s a body that trickles in', async () => {
    claimFails = true;
    const body = JSON.stringify({ command: '/heal', text: 'status' });
    expect(await send(base, body, signed(body))).toEqual({ status: 200, text: 'passed' });
    passed.length = 0;
    const slow = await new Promise<number | string>((resolve) => {
      const req = request(`${base}/alerts/generic`, { method: 'POST', agent: false });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
      req.write('{"a":');
    });
    expect(slow).toBe(408);
    expect(passed).toEqual([]);
  });

  it('does not read bodies of other paths or methods', async () => {
    await send(base, 'x', { 'content-length': '1' }, { path: '/other' });
    expect(passed).toEqual([{ path: '/other', raw: '(not read)' }]);
  });
});
