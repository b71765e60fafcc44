/**
 * `heal demo`: Heal's real `web` and `worker` processes against a local Slack stand-in and fixture platform
 * servers serving the bundled examples. Each example's alert is posted in an alert channel and delivered to
 * `web` as a signed Slack event; once every investigation is published, the threads are printed and
 * written as an HTML page, and everything the demo started is stopped.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { findAlertTarget } from '../bot/alert-text.ts';
import { incidentId } from '../core/incident.ts';
import { describeTarget } from '../core/target.ts';
import { type HtmlThread, renderThreadsPage } from '../report/html.ts';
import {
  type Child,
  DemoError,
  type DemoRedis,
  demoRedis,
  freePort,
  spawnChild,
  stopChild,
  waitFor,
} from './demo-procs.ts';
import { threadToText } from './demo-terminal.ts';
import { expandScenario, type FixtureServer, loadScenario, startFixtureServer } from './fixture-server.ts';
import { type SlackStandin, startSlackStandin } from './slack-standin.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** The bundled examples: scenario directories with an `alert.json`. */
export const EXAMPLES_DIR = join(ROOT, 'examples');
const ALERT_CHANNEL = 'C0DATAALERTS';
const CHANNEL_NAME = 'data-alerts';

const Alert = z.object({ author: z.string().min(1), text: z.string().min(1) });

export interface DemoOptions {
  /** Where to write the HTML page (default: a new temp dir). */
  out?: string;
  /** Example directories (default: every one under examples/). */
  examples?: string[];
  /** How long to wait for all investigations to be published. */
  timeoutMs?: number;
}

/** What the demo showed: the HTML page's path and each thread's final outcome. */
export interface DemoResult {
  htmlPath: string;
  threads: Array<{ example: string; incidentId: string; checkpoint: string; thread: HtmlThread }>;
}

interface Running {
  slack?: SlackStandin;
  fixtures: FixtureServer[];
  redis?: DemoRedis;
  client?: Redis;
  prefix: string;
  web?: Child;
  worker?: Child;
}

function exampleDirs(opts: DemoOptions): string[] {
  if (opts.examples) return opts.examples.map((d) => resolve(d));
  return readdirSync(EXAMPLES_DIR)
    .map((d) => join(EXAMPLES_DIR, d))
    .filter((d) => existsSync(join(d, 'alert.json')))
    .sort();
}

async function startFixtures(run: Running, dirs: string[]) {
  const env: Record<string, string> = {};
  const alerts: Array<{ dir: string; author: string; text: string }> = [];
  for (const dir of dirs) {
    const server = await startFixtureServer(dir);
    run.fixtures.push(server);
    Object.assign(env, expandScenario(loadScenario(dir), server.base).env);
    const alert = Alert.parse(JSON.parse(readFileSync(join(dir, 'alert.json'), 'utf8')));
    alerts.push({ dir, author: alert.author, text: alert.text.replaceAll('{base}', server.base) });
  }
  return { env, alerts };
}

async function startHeal(run: Running, env: Record<string, string>, base: string) {
  const spawnHeal = (cmd: string) =>
    spawnChild(process.execPath, [join(ROOT, 'bin', 'heal.js'), cmd], env, ROOT);
  run.web = spawnHeal('web');
  run.worker = spawnHeal('worker');
  const { web, worker } = run;
  const exitedEarly = (c: Child, name: string) => {
    if (c.child.exitCode !== null)
      throw new DemoError(`heal ${name} exited early:\n${c.output().slice(-1500)}`);
  };
  await waitFor(
    'heal web to answer /healthz',
    async () => {
      exitedEarly(web, 'web');
      const res = await fetch(`${base}/healthz`).catch(() => null);
      return res?.status === 200;
    },
    30_000,
  );
  await waitFor(
    'heal worker to be ready',
    () => {
      exitedEarly(worker, 'worker');
      return worker.output().includes('worker ready');
    },
    30_000,
  );
}

async function stopAll(run: Running): Promise<void> {
  await Promise.all([stopChild(run.web), stopChild(run.worker)]);
  if (run.client) {
    const keys = await run.client.keys(`${run.prefix}:*`).catch(() => []);
    if (keys.length) await run.client.del(...keys).catch(() => undefined);
    run.client.disconnect();
  }
  await run.redis?.close();
  await Promise.all(run.fixtures.map((f) => f.close()));
  await run.slack?.close();
}

/** Runs the demo; `say` receives what the user should read (progress, then the threads). */
export async function runDemo(opts: DemoOptions, say: (text: string) => void): Promise<DemoResult> {
  const run: Running = { fixtures: [], prefix: `heal-demo-${randomBytes(4).toString('hex')}` };
  try {
    const dirs = exampleDirs(opts);
    run.slack = await startSlackStandin();
    const { env: platformEnv, alerts } = await startFixtures(run, dirs);
    run.redis = await demoRedis(process.env.REDIS_URL || undefined);
    say(`Redis: ${run.redis.origin}; keys under \`${run.prefix}:\` are removed at the end.\n`);
    run.client = new Redis(run.redis.url, { maxRetriesPerRequest: 2 });
    const port = await freePort();
    const secret = randomBytes(16).toString('hex');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...platformEnv,
      REDIS_URL: run.redis.url,
      PORT: String(port),
      SLACK_BOT_TOKEN: 'xoxb-heal-demo',
      SLACK_SIGNING_SECRET: secret,
      SLACK_API_URL: run.slack.apiUrl,
      HEAL_ALERT_CHANNELS: ALERT_CHANNEL,
      HEAL_QUEUE_PREFIX: run.prefix,
      LOG_LEVEL: 'info',
    };
    const base = `http://127.0.0.1:${port}`;
    say('Starting heal web and heal worker (child processes, as `npm start` / `npm run worker`)…\n');
    await startHeal(run, env, base);
    const started = await fireAlerts(
      run,
      alerts,
      { eventsUrl: `${base}/slack/events`, signingSecret: secret },
      say,
    );
    const threads = await collectThreads(run, started, opts.timeoutMs ?? 45_000);
    for (const t of threads) say(`\n${threadToText(t.thread)}\n`);
    const htmlPath = writePage(
      opts.out,
      threads.map((t) => t.thread),
    );
    say(`\nThe threads as they would read in Slack: ${htmlPath}\n`);
    return { htmlPath, threads };
  } finally {
    await stopAll(run);
  }
}

async function fireAlerts(
  run: Running,
  alerts: Array<{ dir: string; author: string; text: string }>,
  delivery: { eventsUrl: string; signingSecret: string },
  say: (text: string) => void,
) {
  const slack = run.slack as SlackStandin;
  const started = [];
  for (const a of alerts) {
    const target = findAlertTarget({ text: a.text }, () => true);
    if (!target) throw new DemoError(`the alert of ${a.dir} names no run Heal understands`);
    const posted = await slack.postAndDeliver(
      { channel: ALERT_CHANNEL, text: a.text, author: a.author },
      delivery,
    );
    if (posted.status !== 200)
      throw new DemoError(`heal web answered ${posted.status} to the alert of ${a.dir}`);
    say(`${a.author} posted an alert in #${CHANNEL_NAME}: ${describeTarget(target)}\n`);
    started.push({
      dir: a.dir,
      ts: posted.ts,
      incidentId: incidentId(target),
      title: `${a.author} alert · ${describeTarget(target)}`,
    });
  }
  return started;
}

async function collectThreads(
  run: Running,
  started: Array<{ dir: string; ts: string; incidentId: string; title: string }>,
  timeoutMs: number,
): Promise<DemoResult['threads']> {
  const client = run.client as Redis;
  const checkpointOf = (id: string) => client.hget(`${run.prefix}:incident:${id}`, 'checkpoint');
  await waitFor(
    'the investigations to be published',
    async () => {
      const states = await Promise.all(started.map((s) => checkpointOf(s.incidentId)));
      return states.every((c) => c === 'published' || c === 'failed');
    },
    timeoutMs,
  ).catch((err: unknown) => {
    throw new DemoError(
      `${(err as Error).message}\nworker output:\n${run.worker?.output().slice(-2000) ?? ''}`,
    );
  });
  const slack = run.slack as SlackStandin;
  return Promise.all(
    started.map(async (s) => ({
      example: s.dir,
      incidentId: s.incidentId,
      checkpoint: (await checkpointOf(s.incidentId)) ?? 'unknown',
      thread: { channel: CHANNEL_NAME, title: s.title, messages: slack.thread(ALERT_CHANNEL, s.ts) },
    })),
  );
}

function writePage(out: string | undefined, threads: HtmlThread[]): string {
  const path = resolve(out ?? join(mkdtempSync(join(tmpdir(), 'heal-demo-')), 'heal-demo.html'));
  mkdirSync(dirname(path), { recursive: true });
  const intro =
    'Three recorded pipeline failures were alerted in #data-alerts; Heal investigated each from the ' +
    "platform's own API and answered in the alert's thread. Rendered from the Block Kit messages Heal posted.";
  writeFileSync(path, renderThreadsPage('Heal demo: #data-alerts', threads, intro));
  return path;
}
