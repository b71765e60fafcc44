import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type FakeSlack, startFakeSlack } from '../support/fakeSlack.ts';
import {
  expandScenario,
  type FixtureServer,
  loadScenario,
  startFixtureServer,
} from '../support/fixtureServer.ts';
import { freePort, type Proc, spawnHeal, stop, waitFor, waitHealthy } from './procs.ts';

export const SCENARIO_DIR = join(import.meta.dirname, '..', 'scenarios', 'spark-skew-hot-customer-oom');
export const APP_ID = 'app-20261120021500-0042';
export const SECRET = 'e2e-signing-secret-0123456789abcdef';
export const ALERT_CHANNEL = 'C0ALERTS01';
// A dedicated Redis database (the db index in REDIS_URL must be honoured) plus a unique prefix.
export const REDIS_URL = 'redis://127.0.0.1:6379/9';

/** Fake Slack + fixture History Server + `heal web` + `heal worker`, all on loopback. */
export interface Stack {
  slack: FakeSlack;
  fixture: FixtureServer;
  redis: Redis;
  prefix: string;
  env: Record<string, string>;
  web?: Proc;
  worker?: Proc;
  base: string;
  startWorker(): Promise<Proc>;
  close(): Promise<void>;
}

/** `scenarioDir` (default: the Spark skew scenario) is served by the fixture server, with its env. */
export async function startStack(
  opts: { delayMs?: number; lockMs?: number; scenarioDir?: string; env?: Record<string, string> } = {},
): Promise<Stack> {
  const dir = opts.scenarioDir ?? SCENARIO_DIR;
  const slack = await startFakeSlack();
  const fixture = await startFixtureServer(dir, opts.delayMs ? { delayMs: opts.delayMs } : {});
  const port = await freePort();
  const prefix = `heale2e-${randomUUID().slice(0, 8)}`;
  const env: Record<string, string> = {
    REDIS_URL,
    PORT: String(port),
    SLACK_BOT_TOKEN: 'xoxb-e2e-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    SPARK_HISTORY_URL: fixture.base,
    HEAL_ALERT_CHANNELS: ALERT_CHANNEL,
    HEAL_QUEUE_PREFIX: prefix,
    HEAL_JOB_LOCK_MS: String(opts.lockMs ?? 4_000),
    HEAL_WORKER_CONCURRENCY: '2',
    LOG_LEVEL: 'info',
    ...expandScenario(loadScenario(dir), fixture.base).env,
    ...opts.env,
  };
  const stack: Stack = {
    slack,
    fixture,
    redis: new Redis(REDIS_URL),
    prefix,
    env,
    base: `http://127.0.0.1:${port}`,
    async startWorker() {
      const w = spawnHeal('worker', env);
      stack.worker = w;
      await waitFor(`worker ready (output: ${w.output().slice(-500)})`, () =>
        w.output().includes('worker ready'),
      );
      return w;
    },
    async close() {
      await Promise.all([stop(stack.web), stop(stack.worker)]);
      const keys = await stack.redis.keys(`${prefix}:*`);
      if (keys.length) await stack.redis.del(...keys);
      await stack.redis.quit();
      await slack.close();
      await fixture.close();
    },
  };
  try {
    stack.web = spawnHeal('web', env);
    await waitHealthy(stack.base, stack.web);
    await stack.startWorker();
  } catch (err) {
    await stack.close();
    throw err;
  }
  return stack;
}

/** Thread parents Heal posted (top-level messages, or replies in an alert thread) in `channel`. */
export function parentPosts(slack: FakeSlack, channel: string, threadTs?: string) {
  return slack
    .callsOf('chat.postMessage')
    .filter((c) => c.body.channel === channel && c.body.thread_ts === threadTs);
}

/** Waits until the incident's last checkpoint is `published` (parent final, every evidence reply posted). */
export function waitPublished(stack: Stack, incidentId: string, timeoutMs = 40_000) {
  return waitFor(
    `incident ${incidentId} published`,
    async () => {
      const rec = await stack.redis.hgetall(`${stack.prefix}:incident:${incidentId}`);
      return rec.checkpoint === 'published' ? rec : undefined;
    },
    timeoutMs,
  );
}
