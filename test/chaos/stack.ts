/**
 * The chaos tests' stack: fake Slack, the Spark skew fixture behind an alias proxy (so many distinct
 * applications, hence distinct incidents, share one recording), `heal web` and any number of `heal worker`
 * processes, against whatever Redis the test started (standalone or cluster).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/core/config.ts';
import { Report } from '../../src/core/report.ts';
import { createRedis } from '../../src/jobs/queue.ts';
import { renderEvidenceReplies } from '../../src/report/blocks.ts';
import { fitMessage } from '../../src/report/limits.ts';
import { freePort, type Proc, spawnHeal, stop, waitFor, waitHealthy } from '../e2e/procs.ts';
import { APP_ID, SCENARIO_DIR, SECRET } from '../e2e/stack.ts';
import { type FakeSlack, sendSigned, slashCommandBody, startFakeSlack } from '../support/fakeSlack.ts';
import {
  expandScenario,
  type FixtureServer,
  loadScenario,
  startFixtureServer,
} from '../support/fixtureServer.ts';

/** `count` distinct Spark application ids (`app-<14 digits>-<n>`) for the same recorded failure. */
export function aliasIds(count: number, from = 7000): string[] {
  return Array.from({ length: count }, (_, i) => `app-20261120021500-${String(from + i)}`);
}

/** Serves the fixture's one application under any alias id (rewritten both ways). */
export async function startAliasProxy(upstream: string): Promise<{ base: string; close(): Promise<void> }> {
  let base = '';
  const server: Server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    const alias = url.match(/app-20261120021500-\d{4,}/)?.[0];
    try {
      const answer = await fetch(upstream + (alias ? url.replaceAll(alias, APP_ID) : url), {
        headers: { accept: String(req.headers.accept ?? '*/*') },
      });
      let body = (await answer.text()).replaceAll(upstream, base);
      if (alias) body = body.replaceAll(APP_ID, alias);
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
      res.end(body);
    } catch {
      res.writeHead(502).end('upstream down');
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return { base, close };
}

export interface ChaosStack {
  slack: FakeSlack;
  fixture: FixtureServer;
  redis: Redis;
  prefix: string;
  env: Record<string, string>;
  base: string;
  web: Proc;
  workers: Proc[];
  startWorker(extra?: Record<string, string>): Promise<Proc>;
  /** Sends `/heal spark <app>` signed; returns the incident id from the ack ('' when none). */
  heal(app: string, channel: string): Promise<string>;
  /** The incident hash once its checkpoint is `published`. */
  waitPublished(id: string, timeoutMs?: number): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export interface ChaosOptions {
  redisUrl?: string;
  clusterNodes?: string;
  prefix?: string;
  workers?: number;
  delayMs?: number;
  env?: Record<string, string>;
}

export async function startChaosStack(opts: ChaosOptions = {}): Promise<ChaosStack> {
  const slack = await startFakeSlack();
  const fixture = await startFixtureServer(SCENARIO_DIR, opts.delayMs ? { delayMs: opts.delayMs } : {});
  const proxy = await startAliasProxy(fixture.base);
  const port = await freePort();
  const prefix = opts.prefix ?? `healchaos-${randomUUID().slice(0, 8)}`;
  const env: Record<string, string> = {
    REDIS_URL: opts.redisUrl ?? 'redis://127.0.0.1:6379/9',
    ...(opts.clusterNodes ? { REDIS_CLUSTER_NODES: opts.clusterNodes } : {}),
    PORT: String(port),
    SLACK_BOT_TOKEN: 'xoxb-chaos-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    HEAL_QUEUE_PREFIX: prefix,
    HEAL_JOB_LOCK_MS: '3000',
    HEAL_WORKER_CONCURRENCY: '4',
    LOG_LEVEL: 'info',
    ...expandScenario(loadScenario(SCENARIO_DIR), fixture.base).env,
    SPARK_HISTORY_URL: proxy.base,
    ...opts.env,
  };
  const redis = createRedis(loadConfig(env), { worker: false });
  redis.on('error', () => undefined); // outages are part of the tests; readiness is polled
  const workers: Proc[] = [];
  const base = `http://127.0.0.1:${port}`;
  const stack: ChaosStack = {
    slack,
    fixture,
    redis,
    prefix,
    env,
    base,
    web: spawnHeal('web', env),
    workers,
    async startWorker(extra = {}) {
      const w = spawnHeal('worker', { ...env, ...extra });
      workers.push(w);
      await waitFor(
        'worker ready',
        () => {
          if (w.child.exitCode !== null) throw new Error(`worker exited early:\n${w.output().slice(-1500)}`);
          return w.output().includes('worker ready');
        },
        40_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${w.output().slice(-1500)}`);
      });
      return w;
    },
    async heal(app, channel) {
      const body = slashCommandBody(`spark ${app}`, { channel });
      const ack = await sendSigned(`${base}/slack/events`, body, { secret: SECRET, contentType: 'form' });
      return JSON.stringify(ack.json).match(/inc_[0-9a-f]{16}/)?.[0] ?? '';
    },
    waitPublished: (id, timeoutMs = 60_000) =>
      waitFor(
        `incident ${id} published`,
        async () => {
          const rec = await redis
            .hgetall(`${prefix}:incident:${id}`)
            .catch(() => ({}) as Record<string, string>);
          return rec.checkpoint === 'published' ? rec : undefined;
        },
        timeoutMs,
      ),
    async close() {
      await Promise.all([stop(stack.web), ...workers.map((w) => stop(w))]);
      // Leave nothing behind in the shared Redis (a 1,000-incident run stores hundreds of MB); a Redis
      // the test stopped on purpose is skipped.
      if (redis.status === 'ready') await deletePrefix(redis, prefix).catch(() => undefined);
      redis.disconnect();
      await Promise.all([slack.close(), fixture.close(), proxy.close()]);
    },
  };
  try {
    await waitHealthy(base, stack.web, 30_000);
    for (let i = 0; i < (opts.workers ?? 1); i++) await stack.startWorker();
  } catch (err) {
    await stack.close();
    throw err;
  }
  return stack;
}

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  // A Cluster client (REDIS_CLUSTER_NODES) scans each master.
  const cluster = redis as unknown as { nodes?: (role: 'master') => Redis[] };
  const nodes = typeof cluster.nodes === 'function' ? cluster.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) await node.unlink(k);
    } while (cursor !== '0');
  }
}

/** Checks the thread of one published incident: one parent, no duplicated reply, one shared report file. */
export function threadProblems(slack: FakeSlack, rec: Record<string, string>): string[] {
  const posts = slack.callsOf('chat.postMessage').filter((c) => c.status === 200 && c.response.ok);
  const parentTs = String(rec.parentTs);
  const problems: string[] = [];
  const parents = posts.filter((p) => p.response.ts === parentTs);
  if (parents.length !== 1) problems.push(`${rec.incidentId}: ${parents.length} parents`);
  const top = posts.filter((p) => p.body.thread_ts === undefined && p.body.channel === rec.channel);
  if (top.length !== 1) problems.push(`${rec.incidentId}: ${top.length} top-level posts in ${rec.channel}`);
  const replies = posts.filter((p) => p.body.thread_ts === parentTs).map((p) => String(p.body.text));
  const expected = renderEvidenceReplies(Report.parse(JSON.parse(String(rec.report)))).map(
    (r) => fitMessage(r).text,
  );
  for (const text of expected) {
    const n = replies.filter((r) => r === text).length;
    if (n !== 1) problems.push(`${rec.incidentId}: evidence reply posted ${n} times: ${text.slice(0, 80)}`);
  }
  // Evidence replies come first, in order; anything after them (e.g. a follow-up note) is not repeated.
  if (replies.slice(0, expected.length).join('\n') !== expected.join('\n'))
    problems.push(`${rec.incidentId}: evidence replies out of order`);
  if (new Set(replies).size !== replies.length)
    problems.push(`${rec.incidentId}: duplicate replies: ${replies.map((r) => r.slice(0, 60)).join(' | ')}`);
  const shares = [...slack.files.values()].flatMap((f) => f.shares).filter((s) => s.thread_ts === parentTs);
  if (shares.length > 1) problems.push(`${rec.incidentId}: report shared ${shares.length} times`);
  return problems;
}
