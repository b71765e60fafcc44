import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { REDIS_URL, SECRET } from './stack.ts';

const SCENARIO = join(import.meta.dirname, '..', 'scenarios', 'airflow-upstream-api-field-renamed');
const DAG = 'marketing_attribution';
const RUN_ID = 'scheduled__2026-11-19T04:00:00+00:00';
const ALERTS = 'C0ALERTS01';
const HOOKS = 'C0HOOKS01';
const TOKEN = 'e2e-webhook-token';

describe('intake: webhook + alert message + /heal, and an alert storm, through web + worker', () => {
  let slack: FakeSlack;
  let fixture: FixtureServer;
  let web: Proc | undefined;
  let worker: Proc | undefined;
  let redis: Redis;
  let base: string;
  const prefix = `heale2e-intake-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    slack = await startFakeSlack();
    fixture = await startFixtureServer(SCENARIO);
    redis = new Redis(REDIS_URL);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      REDIS_URL,
      PORT: String(port),
      SLACK_BOT_TOKEN: 'xoxb-e2e-test',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.apiUrl,
      HEAL_ALERT_CHANNELS: ALERTS,
      HEAL_WEBHOOK_CHANNEL: HOOKS,
      HEAL_WEBHOOK_TOKEN: TOKEN,
      HEAL_GROUP_SUMMARY_MS: '1000',
      HEAL_QUEUE_PREFIX: prefix,
      HEAL_JOB_LOCK_MS: '4000',
      HEAL_WORKER_CONCURRENCY: '2',
      LOG_LEVEL: 'info',
      ...expandScenario(loadScenario(SCENARIO), fixture.base).env,
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
    await slack.close();
    await fixture.close();
  });

  const incidentKeys = async () => (await redis.keys(`${prefix}:incident:*`)).sort();

  it('the same failure via webhook, alert message and /heal is one incident and one investigation', async () => {
    const hook = await fetch(`${base}/alerts/airflow`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ dag_id: DAG, run_id: RUN_ID, task_id: 'publish_dashboard', try_number: 1 }),
    });
    expect(hook.status).toBe(202);
    const { incidentId } = (await hook.json()) as { incidentId: string };

    const logUrl = `${fixture.base}/dags/${DAG}/grid?dag_run_id=${encodeURIComponent(RUN_ID)}&amp;task_id=build_attribution`;
    const event = {
      type: 'message',
      subtype: 'bot_message',
      bot_id: 'B0AIRFLOW',
      username: 'Airflow',
      text: `:red_circle: Task failed: *build_attribution* <${logUrl}|View log>`,
      ts: '1763607600.000300',
      channel: ALERTS,
      event_ts: '1763607600.000300',
    };
    const ev = await sendSigned(`${base}/slack/events`, eventCallbackBody(event, 'Ev0INTAKE1'), {
      secret: SECRET,
      contentType: 'json',
    });
    expect(ev.status).toBe(200);
    const heal = await sendSigned(`${base}/slack/events`, slashCommandBody(`airflow ${DAG} ${RUN_ID}`), {
      secret: SECRET,
      contentType: 'form',
    });
    expect(heal.text).toContain(incidentId);

    const rec = await waitFor(
      'published',
      async () => {
        const r = await redis.hgetall(`${prefix}:incident:${incidentId}`);
        return r.checkpoint === 'published' ? r : undefined;
      },
      40_000,
    );
    expect(rec.channel).toBe(HOOKS);
    expect(await incidentKeys()).toEqual([`${prefix}:incident:${incidentId}`]);
    const parents = slack.callsOf('chat.postMessage').filter((c) => !c.body.thread_ts);
    expect(parents).toHaveLength(1);
    // The counter message in the thread says 3 reports were grouped.
    await waitFor('counter message', () =>
      [...slack.messages.values()].find(
        (m) => m.thread_ts === rec.parentTs && m.text.startsWith('3 alerts grouped'),
      ),
    );
  }, 60_000);

  it('a storm of 100 alert messages for 2 DAG runs opens 2 threads, not 100 (Slack calls counted)', async () => {
    const before = new Set(await incidentKeys());
    const callsBefore = slack.calls.length;
    const runs = ['manual__2026-11-20T01:00:00+00:00', 'manual__2026-11-20T02:00:00+00:00'];
    const sends = [];
    for (let i = 0; i < 100; i++) {
      const runId = runs[i % 5 === 0 ? 1 : 0] as string;
      const ts = `1763700000.${String(i).padStart(6, '0')}`;
      const event = {
        type: 'message',
        subtype: 'bot_message',
        username: 'Airflow',
        text: `Task failed. *Dag*: storm_dag *Task*: t_${i % 40} *Run ID*: ${runId}`,
        ts,
        channel: ALERTS,
        event_ts: ts,
      };
      sends.push(
        sendSigned(`${base}/slack/events`, eventCallbackBody(event, `Ev0STORM${i}`), {
          secret: SECRET,
          contentType: 'json',
        }),
      );
    }
    expect((await Promise.all(sends)).every((r) => r.status === 200)).toBe(true);
    const created = await waitFor('2 incidents', async () => {
      const now = (await incidentKeys()).filter((k) => !before.has(k));
      return now.length >= 2 ? now : undefined;
    });
    expect(created).toHaveLength(2);
    // Both counters reach their final counts (80 and 20) in the alert threads.
    await waitFor(
      'counters',
      () => {
        const texts = [...slack.messages.values()].map((m) => m.text);
        return (
          texts.some((t) => t.startsWith('80 alerts grouped')) &&
          texts.some((t) => t.startsWith('20 alerts grouped'))
        );
      },
      40_000,
    );
    await new Promise((r) => setTimeout(r, 1_500));
    const calls = slack.calls.slice(callsBefore);
    const counters = calls.filter((c) => String(c.body.text ?? '').includes('alerts grouped into'));
    const threadsOpened = calls.filter(
      (c) => c.method === 'chat.postMessage' && String(c.body.text ?? '').startsWith('Heal inc_'),
    );
    console.log(
      `storm: ${calls.length} Slack calls, ${threadsOpened.length} thread parents, ${counters.length} counter posts/updates`,
    );
    expect(new Set(threadsOpened.map((c) => c.body.thread_ts)).size).toBe(2);
    expect(counters.length).toBeLessThanOrEqual(20);
    expect(await incidentKeys()).toHaveLength(before.size + 2);
  }, 90_000);
});
