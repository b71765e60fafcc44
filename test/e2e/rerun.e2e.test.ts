import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentId } from '../../src/core/incident.ts';
import { AuditLog } from '../../src/jobs/audit.ts';
import {
  eventCallbackBody,
  type FakeSlack,
  sendSigned,
  slashCommandBody,
  startFakeSlack,
} from '../support/fakeSlack.ts';
import {
  expandScenario,
  type FixtureServer,
  loadScenario,
  startFixtureServer,
} from '../support/fixtureServer.ts';
import { freePort, type Proc, spawnHeal, stop, waitFor, waitHealthy } from './procs.ts';

const SCENARIO = join(import.meta.dirname, '..', 'scenarios', 'airflow-sigkill-oom');
const DAG = 'customer_360_features';
const RUN = 'scheduled__2026-11-19T03:30:00+00:00';
const SECRET = 'e2e-rerun-signing-secret-0123456789';
const CHANNEL = 'C0RERUN01';
const APPROVER_GROUP = 'S0ONCALL1';
const APPROVER = 'U0ONCALL7';
const STRANGER = 'U0STRANGR';
const REDIS_URL = 'redis://127.0.0.1:6379/9';
const CLEAR_PATH = `/api/v1/dags/${DAG}/clearTaskInstances`;
const TI_PATH = `/api/v1/dags/${DAG}/dagRuns/${RUN}/taskInstances/build_features`;

interface Seen {
  method: string;
  path: string;
  body: string;
}

/**
 * The Airflow fixture server behind a recording proxy: every request body is kept, and once a real clear
 * (dry_run false) went through, the cleared task's instance answers with its next try, succeeded.
 */
async function recordingAirflow(fixture: FixtureServer) {
  const seen: Seen[] = [];
  let cleared = false;
  const tiFile = join(SCENARIO, 'http', DAG, 'scheduled__2026-11-19T03_30_00_00_00.build_features.json');
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      seen.push({ method: req.method ?? 'GET', path, body });
      if (req.method === 'POST' && path === CLEAR_PATH && JSON.parse(body).dry_run === false) cleared = true;
      if (cleared && req.method === 'GET' && path === TI_PATH) {
        const ti = JSON.parse(readFileSync(tiFile, 'utf8'));
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ ...ti, try_number: ti.try_number + 1, state: 'success' }));
      }
      const up = await fetch(`${fixture.base}${req.url}`, {
        method: req.method ?? 'GET',
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(([k]) =>
            ['authorization', 'accept', 'content-type'].includes(k),
          ),
        ) as Record<string, string>,
        ...(req.method === 'POST' ? { body } : {}),
      });
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await up.arrayBuffer()));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const writes = () => seen.filter((s) => s.method !== 'GET' && s.method !== 'HEAD');
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return { base, seen, writes, close };
}

/** A `block_actions` interactivity payload (corpus BlockActionPayload.json shape) as Slack posts it. */
function clickBody(user: string, actionId: string, value: string, messageTs: string): string {
  const payload = {
    type: 'block_actions',
    team: { id: 'T0001', domain: 'example' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0001' },
    api_app_id: 'A0HEAL',
    token: 'x8GlZSSaBheFZWjZPbxPasEY',
    container: { type: 'message', message_ts: messageTs, channel_id: CHANNEL, is_ephemeral: false },
    trigger_id: '1234.5678.abcd',
    channel: { id: CHANNEL, name: 'data-alerts' },
    message: { type: 'message', ts: messageTs, text: 'Heal', blocks: [] },
    response_url: 'https://hooks.slack.com/actions/T0001/1/x',
    actions: [
      {
        action_id: actionId,
        block_id: 'heal_actions',
        text: { type: 'plain_text', text: 'Rerun', emoji: true },
        value,
        type: 'button',
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

describe('web + worker: Rerun on an Airflow incident (fixture Airflow 2 behind a recording proxy)', () => {
  let slack: FakeSlack;
  let fixture: FixtureServer;
  let airflow: Awaited<ReturnType<typeof recordingAirflow>>;
  let redis: Redis;
  let web: Proc | undefined;
  let worker: Proc | undefined;
  let base: string;
  const prefix = `heale2e-rerun-${randomUUID().slice(0, 8)}`;
  const id = incidentId({ platform: 'airflow', dagId: DAG, runId: RUN });
  const post = (body: string, form = true) =>
    sendSigned(`${base}/slack/events`, body, { secret: SECRET, contentType: form ? 'form' : 'json' });
  const audit = () => new AuditLog(redis, prefix).list({ incident: id });

  beforeAll(async () => {
    slack = await startFakeSlack();
    slack.usergroups.set(APPROVER_GROUP, ['U0SOMEONE', APPROVER]);
    fixture = await startFixtureServer(SCENARIO);
    airflow = await recordingAirflow(fixture);
    redis = new Redis(REDIS_URL);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      REDIS_URL,
      PORT: String(port),
      SLACK_BOT_TOKEN: 'xoxb-e2e-test',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.apiUrl,
      HEAL_QUEUE_PREFIX: prefix,
      HEAL_APPROVERS: `U0OTHERAP,${APPROVER_GROUP}`,
      HEAL_JOB_LOCK_MS: '4000',
      LOG_LEVEL: 'info',
      ...expandScenario(loadScenario(SCENARIO), airflow.base).env,
    };
    web = spawnHeal('web', env);
    await waitHealthy(base, web);
    worker = spawnHeal('worker', env);
    await waitFor('worker ready', () => worker?.output().includes('worker ready'));
  }, 45_000);

  afterAll(async () => {
    await Promise.all([stop(web), stop(worker)]);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await Promise.all([slack.close(), airflow.close(), fixture.close()]);
  });

  it('refuses a stranger without any platform write, then an approver reruns: dry run, clear, outcome', async () => {
    const res = await post(
      slashCommandBody(`airflow ${DAG} ${RUN}`, { channel: CHANNEL, user: 'U0REQUEST' }),
    );
    expect(res.status).toBe(200);
    const rec = await waitFor(
      'published',
      async () => {
        const r = await redis.hgetall(`${prefix}:incident:${id}`);
        return r.checkpoint === 'published' ? r : undefined;
      },
      40_000,
    );
    const parentTs = String(rec.parentTs);
    expect(JSON.stringify(slack.messages.get(parentTs)?.blocks)).toContain('"action_id":"heal_rerun"');

    // An unauthorised click: audited refusal, an ephemeral answer, no write to Airflow.
    expect((await post(clickBody(STRANGER, 'heal_rerun', id, parentTs))).status).toBe(200);
    await waitFor('refusal audited', async () => (await audit()).find((e) => e.who === STRANGER));
    expect((await audit()).find((e) => e.who === STRANGER)?.result).toBe('refused');
    // Audited before it is answered: wait for the answer too.
    const refusal = await waitFor('refusal answered', () =>
      slack.callsOf('chat.postEphemeral').find((c) => c.body.user === STRANGER),
    );
    expect(JSON.stringify(refusal.body)).toContain('HEAL_APPROVERS');
    await new Promise((r) => setTimeout(r, 1500));
    expect(airflow.writes()).toEqual([]);

    // The approver (a member of the approver user group): confirmation first when the cause is not transient.
    await post(clickBody(APPROVER, 'heal_rerun', id, parentTs));
    const first = await waitFor('approver click audited', async () =>
      (await audit()).find((e) => e.who === APPROVER && e.what === 'heal_rerun'),
    );
    expect(['accepted', 'confirm_asked']).toContain(first.result);
    if (first.result === 'confirm_asked') {
      expect(airflow.writes()).toEqual([]);
      const ask = await waitFor('confirmation asked', () =>
        slack.callsOf('chat.postEphemeral').find((c) => c.body.user === APPROVER),
      );
      expect(JSON.stringify(ask.body)).toMatch(/likely fail again/);
      await post(clickBody(APPROVER, 'heal_rerun_confirm', id, parentTs));
    }

    const done = await waitFor(
      'rerun outcome',
      async () => {
        const r = await redis.hget(`${prefix}:incident:${id}`, 'rerun');
        const st = r ? JSON.parse(r) : undefined;
        return st && ['succeeded', 'failed', 'error'].includes(st.status) ? st : undefined;
      },
      40_000,
    );
    expect(done.status).toBe('succeeded');
    expect(done.by).toBe(APPROVER);

    // Exactly two writes: the dry run, then the clear, for the pinned run's failed task.
    const writes = airflow.writes().map((w) => ({ path: w.path, body: JSON.parse(w.body) }));
    expect(writes.map((w) => [w.path, w.body.dry_run])).toEqual([
      [CLEAR_PATH, true],
      [CLEAR_PATH, false],
    ]);
    for (const w of writes) {
      expect(w.body.dag_run_id).toBe(RUN);
      expect(w.body.task_ids).toEqual(['build_features']);
    }

    // The thread: dry-run preview, rerun started, outcome; the parent shows who did what, no Rerun button.
    // The outcome is stored before it is posted (the publisher paces the thread): wait for the post too.
    const threadReplies = () =>
      slack
        .callsOf('chat.postMessage')
        .filter((c) => c.body.thread_ts === parentTs)
        .map((c) => JSON.stringify(c.body.blocks));
    const replies = await waitFor('rerun outcome posted', async () => {
      const r = threadReplies();
      return r.some((b) => b.includes('heal_rerun_outcome')) ? r : undefined;
    });
    const dry = replies.findIndex((r) => r.includes('heal_rerun_dry_run'));
    const started = replies.findIndex((r) => r.includes('heal_rerun_started'));
    const outcome = replies.findIndex((r) => r.includes('heal_rerun_outcome'));
    expect(dry).toBeGreaterThanOrEqual(0);
    expect(started).toBeGreaterThan(dry);
    expect(outcome).toBeGreaterThan(started);
    expect(replies[dry]).toContain('train_propensity');
    expect(replies[outcome]).toMatch(/succeeded/);
    const parent = await waitFor('parent re-rendered', () => {
      const p = JSON.stringify(slack.messages.get(parentTs)?.blocks);
      return p.includes('reran this') ? p : undefined;
    });
    expect(parent).not.toContain('"action_id":"heal_rerun"');
    expect(parent).toContain(`<@${APPROVER}> reran this`);
    expect(slack.calls.filter((c) => c.response.ok !== true)).toEqual([]);

    // The outcome is audited after its reply and the parent refresh: wait for it rather than race it.
    const results = await waitFor('rerun outcome audited', async () => {
      const r = (await audit()).map((e) => `${e.what}:${e.result}`);
      return r.includes('rerun.outcome:succeeded') ? r : undefined;
    });
    expect(results).toEqual(
      expect.arrayContaining(['rerun.dry_run:done', 'rerun.execute:done', 'rerun.outcome:succeeded']),
    );
  }, 90_000);

  it('lists the incident in /heal history and publishes the App Home tab', async () => {
    const hist = await post(slashCommandBody(`history ${DAG}`, { channel: CHANNEL, user: 'U0REQUEST' }));
    expect(hist.text).toContain(id);
    expect(hist.text).toContain('airflow.oom_killed');
    const ev = {
      type: 'app_home_opened',
      user: 'U0REQUEST',
      channel: 'D0HOME',
      tab: 'home',
      event_ts: '1.2',
    };
    await post(eventCallbackBody(ev, `Ev${randomUUID().slice(0, 8)}`), false);
    const home = await waitFor('home published', () => slack.homes.get('U0REQUEST'));
    expect(JSON.stringify(home.blocks)).toContain(id);
  }, 20_000);
});
