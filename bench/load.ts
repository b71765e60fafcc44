/**
 * Load benchmarks on loopback: ack latency of `web` vs a bare Bolt app, alert → thread latencies,
 * investigations/s with 1 and 2 workers (exactly-once proof), Slack calls per investigation and 429s.
 */
import { spawn } from 'node:child_process';
import { aliasIds, type ChaosStack, startChaosStack, threadProblems } from '../test/chaos/stack.ts';
import { freePort, stop } from '../test/e2e/procs.ts';
import { SECRET } from '../test/e2e/stack.ts';
import { eventCallbackBody, sendSigned, slashCommandBody } from '../test/support/fakeSlack.ts';
import { tier } from '../test/support/slackRateLimits.ts';

export interface Row {
  bench: string;
  figure: string;
}

export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/** `rate` requests/s for `seconds` (bounded open loop); returns per-request latencies (ms) and errors. */
async function drive(
  rate: number,
  seconds: number,
  send: (i: number) => Promise<{ status: number; ms: number }>,
  /** Request numbers start here (a warm-up uses ids the measured run does not). */
  from = 0,
) {
  const lat: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      send(from + i).then(
        (r) => void (r.status === 200 ? lat.push(r.ms) : errors++),
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  return { lat, errors };
}

/** The baseline in its own process, like `heal web`, so it does not share the load generator's event loop. */
async function bareBolt(slackApiUrl: string): Promise<{ base: string; close(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/run-ts.js', 'bench/bare-bolt.ts', String(port)], {
    env: { ...process.env, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slackApiUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ok, fail) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && ok());
    child.once('exit', () => fail(new Error('bare Bolt exited')));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    close: async () => {
      child.kill('SIGTERM');
    },
  };
}

function clickBody(i: number): string {
  const payload = {
    type: 'block_actions',
    team: { id: 'T0001', domain: 'example' },
    user: { id: `U0BENCH${i % 50}`, username: 'bench', name: 'bench', team_id: 'T0001' },
    api_app_id: 'A0HEAL',
    token: 'x',
    container: { type: 'message', message_ts: '1.1', channel_id: 'C0BENCH', is_ephemeral: false },
    trigger_id: '1.2.3',
    channel: { id: 'C0BENCH', name: 'bench' },
    message: { type: 'message', ts: '1.1', text: 'Heal', blocks: [] },
    response_url: 'https://hooks.slack.com/actions/T0001/1/x',
    actions: [
      {
        action_id: 'heal_feedback_up',
        block_id: 'b',
        value: 'inc_00000000000000aa',
        type: 'button',
        action_ts: '1.2',
      },
    ],
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** 1. Ack latency at `rate` req/s: `/heal` and clicks alternately, Heal's web vs a bare Bolt app. */
export async function benchAck(seconds: number, rate = 200, rounds = 3): Promise<Row[]> {
  const stack = await startChaosStack({ workers: 0 });
  const bare = await bareBolt(stack.slack.apiUrl);
  const apps = aliasIds(rate * (seconds + Math.max(1, Math.round(seconds / 5))) * rounds * 2, 10_000);
  const send = (base: string) => (i: number) =>
    sendSigned(
      `${base}/slack/events`,
      i % 2 ? clickBody(i) : slashCommandBody(`spark ${apps[i]}`, { channel: `C0ACK${i % 20}` }),
      {
        secret: SECRET,
        contentType: 'form',
      },
    );
  // Rounds in alternating order (bare, heal, then heal, bare, …) so drifting machine noise (a shared 2-core
  // VM) hits both alike; each run after a warm-up at the same rate (JIT, connection pools), not counted.
  const warm = Math.max(1, Math.round(seconds / 5));
  const runs: Record<'bare' | 'heal', Array<{ lat: number[]; errors: number }>> = { bare: [], heal: [] };
  let next = 0;
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? (['heal', 'bare'] as const) : (['bare', 'heal'] as const);
    for (const who of order) {
      const base = who === 'bare' ? bare.base : stack.base;
      await drive(rate, warm, send(base), next);
      next += rate * warm;
      runs[who].push(await drive(rate, seconds, send(base), next));
      next += rate * seconds;
    }
  }
  await bare.close();
  await stack.close();
  const p99s = (who: 'bare' | 'heal') => runs[who].map((r) => pct(r.lat, 99)).sort((a, b) => a - b);
  const med = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? 0;
  const f = (who: 'bare' | 'heal') => {
    const all = runs[who].flatMap((r) => r.lat);
    const p = p99s(who);
    const errors = runs[who].reduce((n, r) => n + r.errors, 0);
    return `p50 ${pct(all, 50).toFixed(1)} ms; p99 median ${med(p).toFixed(1)} ms (runs ${p.map((x) => x.toFixed(0)).join('/')}); ${errors} errors`;
  };
  return [
    { bench: `ack ${rate} req/s × ${seconds} s × ${rounds}: heal web`, figure: f('heal') },
    { bench: `ack ${rate} req/s × ${seconds} s × ${rounds}: bare Bolt`, figure: f('bare') },
    {
      bench: 'ack p99 ratio heal/bare (medians)',
      figure: (med(p99s('heal')) / med(p99s('bare'))).toFixed(2),
    },
  ];
}

/** 2. Alert message → first thread post, and → root cause on the parent (p50/p95). */
export async function benchAlerts(count: number): Promise<Row[]> {
  const stack = await startChaosStack({
    workers: 2,
    // The production default concurrency (the chaos stack's own default is 4).
    env: { HEAL_ALERT_CHANNELS: alertChannels(count).join(','), HEAL_WORKER_CONCURRENCY: '16' },
  });
  const apps = aliasIds(count, 20_000);
  const sent: number[] = [];
  const byThread = new Map<string, number>(); // alert ts → alert index
  await Promise.all(
    apps.map(async (app, i) => {
      const channel = alertChannels(count)[i] as string;
      const ts = `1700000000.${String(i).padStart(6, '0')}`;
      byThread.set(ts, i);
      const event = {
        type: 'message',
        subtype: 'bot_message',
        bot_id: 'B0ALERTS',
        channel,
        ts,
        text: `:red_circle: Spark application ${app} failed`,
      };
      sent[i] = performance.now();
      await sendSigned(`${stack.base}/slack/events`, eventCallbackBody(event, `Ev0BENCH${i}`), {
        secret: SECRET,
        contentType: 'json',
      });
    }),
  );
  const { firstPost: posted, rootCause: done } = await watchThreads(stack, byThread, sent, 600_000);
  await stack.close();
  const sec = (xs: number[], p: number) => (pct(xs, p) / 1000).toFixed(2);
  return [
    {
      bench: `alert → first thread post (${posted.length}/${count} alerts)`,
      figure: `p50 ${sec(posted, 50)} s, p95 ${sec(posted, 95)} s`,
    },
    {
      bench: `alert → root cause posted (${done.length}/${count})`,
      figure: `p50 ${sec(done, 50)} s, p95 ${sec(done, 95)} s`,
    },
  ];
}

/**
 * Reads the fake Slack's calls once per 100 ms, each call once: an alert's first post in its thread (Heal's
 * parent), then the post or update of that parent that carries the root cause (its confidence).
 */
async function watchThreads(
  stack: ChaosStack,
  byThread: Map<string, number>,
  sent: number[],
  timeoutMs: number,
) {
  const firstPost: Array<number | undefined> = [];
  const rootCause: Array<number | undefined> = [];
  const parents = new Map<string, number>(); // parent ts → alert index
  const deadline = performance.now() + timeoutMs;
  let seen = 0;
  let diagnosed = 0;
  while (diagnosed < byThread.size && performance.now() < deadline) {
    const calls = stack.slack.calls;
    for (; seen < calls.length; seen++) {
      const c = calls[seen];
      if (!c?.response.ok) continue;
      let i = byThread.get(String(c.body.thread_ts));
      if (i !== undefined && c.method === 'chat.postMessage' && firstPost[i] === undefined) {
        firstPost[i] = c.at - (sent[i] ?? 0);
        parents.set(String(c.response.ts), i);
      } else i = c.method === 'chat.update' ? parents.get(String(c.body.ts)) : undefined;
      if (i === undefined || rootCause[i] !== undefined) continue;
      const isParent = c.method === 'chat.update' || parents.get(String(c.response.ts)) === i;
      if (isParent && /confidence \d+%/.test(JSON.stringify(c.body.blocks))) {
        rootCause[i] = c.at - (sent[i] ?? 0);
        diagnosed++;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    firstPost: firstPost.filter((x) => x !== undefined),
    rootCause: rootCause.filter((x) => x !== undefined),
  };
}

const alertChannels = (n: number) =>
  Array.from({ length: Math.min(n, 50) }, (_, i) => `C0ALERT${i}`).concat(
    Array.from({ length: Math.max(0, n - 50) }, (_, i) => `C0ALERT${50 + i}`),
  );

/** 3+5. `count` distinct incidents through `workers` workers: investigations/s, exactly-once, Slack calls. */
export async function benchThroughput(count: number, workers: number, from: number): Promise<Row[]> {
  // chat.update pacing off (the fake Slack is unlimited): Heal's own throughput. With Slack's Tier 3 pacing
  // on, publishing caps it at one root cause per 1.2 s whatever the workers (bench429 measures that path).
  const stack = await startChaosStack({
    workers,
    env: { HEAL_WORKER_CONCURRENCY: '16', HEAL_SLACK_UPDATE_INTERVAL_MS: '0' },
  });
  const t0 = performance.now();
  const ids = await Promise.all(aliasIds(count, from).map((a, i) => stack.heal(a, `C0TP${i}`)));
  const recs = [];
  for (const id of ids) recs.push(await stack.waitPublished(id, 600_000));
  const s = (performance.now() - t0) / 1000;
  const problems = recs.flatMap((r) => threadProblems(stack.slack, r));
  const completions = stack.workers
    .flatMap((w) => [...w.output().matchAll(/"jobId":"(inc_[0-9a-f]+)"[^\n]*investigate job completed/g)])
    .map((m) => m[1]);
  const once =
    new Set(completions).size === completions.length && completions.length === count && problems.length === 0;
  const api = stack.slack.calls.filter((c) => c.method !== 'auth.test').length;
  await stack.close();
  return [
    {
      bench: `${count} incidents, ${workers} worker(s), chat.update unpaced`,
      figure: `${(count / s).toFixed(1)} investigations/s (${s.toFixed(1)} s); exactly once: ${once ? 'yes' : `NO (${completions.length} completions, ${problems.length} problems)`}`,
    },
    ...(workers === 1
      ? [{ bench: 'Slack Web API calls per investigation', figure: (api / count).toFixed(1) }]
      : []),
  ];
}

/** 5. 429s at 50 concurrent incidents in one channel against Slack-like limits. */
export async function bench429(count = 50): Promise<Row[]> {
  const stack: ChaosStack = await startChaosStack({ workers: 2, env: { HEAL_WORKER_CONCURRENCY: '25' } });
  stack.slack.enforceRateLimits({
    postPerChannel: { perSecond: 1, burst: 3 },
    tiers: { 'chat.update': tier(50, 5) },
  });
  const t0 = performance.now();
  const ids = await Promise.all(aliasIds(count, 30_000).map((a) => stack.heal(a, 'C0ONECHANNEL')));
  for (const id of ids) await stack.waitPublished(id, 600_000);
  const s = (performance.now() - t0) / 1000;
  const stats = stack.slack.rateLimitStats();
  const api = stack.slack.calls.filter((c) => c.method !== 'auth.test' && c.status === 200).length;
  await Promise.all(stack.workers.map((w) => stop(w)));
  await stack.close();
  return [
    {
      bench: `${count} concurrent incidents, one channel`,
      figure: `${stats.sent429} × 429 (early retries ${stats.early}), ${(api / count).toFixed(1)} calls/investigation, ${s.toFixed(0)} s`,
    },
  ];
}
