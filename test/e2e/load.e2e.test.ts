import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../../src/core/report.ts';
import { renderEvidenceReplies } from '../../src/report/blocks.ts';
import { fitMessage } from '../../src/report/limits.ts';
import type { SlackCall } from '../support/fakeSlack.ts';
import { sendSigned, slashCommandBody } from '../support/fakeSlack.ts';
import { tier } from '../support/slackRateLimits.ts';
import { type Proc, spawnHeal, stop, waitFor } from './procs.ts';
import { APP_ID, SECRET, type Stack, startStack, waitPublished } from './stack.ts';

const CHANNEL = 'C0LOADTEST';
const INCIDENTS = 50;
// Distinct Spark application ids for the same recorded failure (app-<14 digits>-<4+ digits>).
const aliases = Array.from({ length: INCIDENTS }, (_, i) => `app-20261120021500-${String(7000 + i)}`);

/**
 * The fixture History Server answers one application id; this proxy serves it under every alias, rewriting
 * the alias to the recorded id on the way in and back (and the fixture's base to its own) on the way out.
 */
async function startAliasProxy(upstream: string): Promise<{ base: string; server: Server }> {
  let base = '';
  const server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    const alias = aliases.find((a) => url.includes(a));
    const upstreamUrl = upstream + (alias ? url.replaceAll(alias, APP_ID) : url);
    const answer = await fetch(upstreamUrl, { headers: { accept: String(req.headers.accept ?? '*/*') } });
    let body = await answer.text();
    body = body.replaceAll(upstream, base);
    if (alias) body = body.replaceAll(APP_ID, alias);
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
    res.end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, server };
}

/** What a retried call must match to count as the same request (updates may carry a newer state). */
function identity(c: SlackCall): string {
  const b = c.body;
  if (c.method === 'chat.postMessage') return `${b.channel}|${b.thread_ts ?? ''}|${b.text}`;
  if (c.method === 'chat.update') return `${b.channel}|${b.ts}`;
  if (c.method === 'files.completeUploadExternal') return JSON.stringify(b.files);
  if (c.method === 'files.getUploadURLExternal') return `${b.filename}`;
  return JSON.stringify(b);
}

/** 429s not followed by a successful call of the same method and identity (a lost request). */
function unhandled429s(calls: SlackCall[]): SlackCall[] {
  return calls.filter(
    (c, i) =>
      c.status === 429 &&
      !calls
        .slice(i + 1)
        .some(
          (n) => n.status === 200 && n.method === c.method && identity(n) === identity(c) && n.response.ok,
        ),
  );
}

describe(`${INCIDENTS} concurrent /heal in one channel against a rate-limited fake Slack`, () => {
  let stack: Stack;
  let proxy: { base: string; server: Server };
  const workers: Proc[] = [];

  beforeAll(async () => {
    stack = await startStack();
    // Slack's limits: ~1 chat.postMessage per second per channel with short bursts; chat.update is Tier 3
    // (50+ per minute) but enforced tighter here than the publisher assumes, so 429s must be handled.
    stack.slack.enforceRateLimits({
      postPerChannel: { perSecond: 1, burst: 3 },
      tiers: {
        'chat.update': tier(40, 4),
        'files.getUploadURLExternal': tier(100, 10),
        'files.completeUploadExternal': tier(100, 10),
      },
    });
    proxy = await startAliasProxy(stack.fixture.base);
    await stop(stack.worker);
    // Two worker processes share the pacing state through Redis.
    const env = { ...stack.env, SPARK_HISTORY_URL: proxy.base, HEAL_WORKER_CONCURRENCY: '25' };
    for (let i = 0; i < 2; i++) {
      const w = spawnHeal('worker', env);
      workers.push(w);
      await waitFor('worker ready', () => w.output().includes('worker ready'));
    }
    stack.worker = workers[0];
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => stop(w)));
    await stack?.close();
    await new Promise<void>((ok) => proxy?.server.close(() => ok()));
  });

  it('delivers every message in order, retries every 429 after its Retry-After, loses nothing', async () => {
    const t0 = Date.now();
    const acks = await Promise.all(
      aliases.map((a, i) =>
        sendSigned(
          `${stack.base}/slack/events`,
          slashCommandBody(`spark ${a}`, { channel: CHANNEL, user: `U0LOAD${i}` }),
          { secret: SECRET, contentType: 'form' },
        ),
      ),
    );
    const ids = acks.map((a) => JSON.stringify(a.json).match(/inc_[0-9a-f]{16}/)?.[0] ?? '');
    expect(new Set(ids).size).toBe(INCIDENTS);
    const recs = [];
    for (const id of ids) recs.push(await waitPublished(stack, id, 280_000 - (Date.now() - t0)));
    const seconds = (Date.now() - t0) / 1000;

    const calls = stack.slack.calls;
    const ok = calls.filter((c) => c.status === 200);
    const posts = ok.filter((c) => c.method === 'chat.postMessage');
    const stats = stack.slack.rateLimitStats();
    const unhandled = unhandled429s(calls);
    console.log(
      `load: ${INCIDENTS} incidents in ${seconds.toFixed(1)} s; posts ${posts.length}, updates ` +
        `${ok.filter((c) => c.method === 'chat.update').length}, files ${stack.slack.files.size}; ` +
        `429s sent ${stats.sent429} (${JSON.stringify(stats.byKey)}), retried-and-succeeded ` +
        `${stats.sent429 - unhandled.length}, unhandled ${unhandled.length}, early requests ${stats.early}`,
    );
    expect(ok.filter((c) => c.response.ok !== true)).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(stats.early).toBe(0);

    for (const rec of recs) {
      const parentTs = String(rec.parentTs);
      const parents = posts.filter((p) => p.response.ts === parentTs);
      expect(parents).toHaveLength(1);
      expect(parents[0]?.body.thread_ts).toBeUndefined();
      const report = Report.parse(JSON.parse(String(rec.report)));
      expect(JSON.stringify(stack.slack.messages.get(parentTs))).toContain(`${report.rootCause?.category} ·`);
      // The same nightly job failing 50 times is a recurring failure: its escalation is not evidence.
      const replies = posts
        .filter((p) => p.body.thread_ts === parentTs)
        .map((p) => p.body.text)
        .filter((t) => t !== 'Heal: a recurring failure');
      expect(replies).toEqual(renderEvidenceReplies(report).map((r) => fitMessage(r).text));
      const shared = [...stack.slack.files.values()].filter((f) =>
        f.shares.some((s) => s.thread_ts === parentTs),
      );
      expect(shared).toHaveLength(1);
      expect(shared[0]?.shares).toHaveLength(1);
      expect(shared[0]?.content).toContain(`# Incident ${report.id}`);
    }
    // One parent per incident and nothing else at the top level of the channel.
    expect(posts.filter((p) => p.body.thread_ts === undefined)).toHaveLength(INCIDENTS);
  }, 300_000);
});
