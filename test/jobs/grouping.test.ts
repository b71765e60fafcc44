import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDeps } from '../../src/bot/deps.ts';
import { WebMetrics } from '../../src/bot/metrics.ts';
import { type Intake, reportFailure } from '../../src/bot/routes/intake.ts';
import { incidentId } from '../../src/core/incident.ts';
import type { Target } from '../../src/core/target.ts';
import { AlertGroups, groupId, postGroupSummary } from '../../src/jobs/grouping.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import type { InvestigateJobData } from '../../src/jobs/queue.ts';
import { SlackPublisher } from '../../src/report/publisher.ts';
import { startFakeSlack } from '../support/fakeSlack.ts';
import { cleanPrefix, newRedis, silentLog, testConfig, uniquePrefix } from './helpers.ts';

const CHANNEL = 'C0STORM';

describe('dedup and grouping', () => {
  let redis: Redis;
  let incidents: IncidentStore;
  let groups: AlertGroups;
  const prefix = uniquePrefix('grouping');
  const enqueued: InvestigateJobData[] = [];
  const scheduled = new Set<string>();
  let deps: BotDeps;
  let intake: Intake;

  beforeAll(() => {
    redis = newRedis();
    incidents = new IncidentStore(redis, prefix);
    groups = new AlertGroups(redis, prefix, incidents, { suppressMs: 60_000 });
    deps = {
      config: testConfig(prefix),
      log: silentLog,
      incidents,
      enqueue: async (d: InvestigateJobData) => void enqueued.push(d),
      metrics: new WebMetrics(redis, prefix),
      isSupported: () => true,
    } as unknown as BotDeps;
    intake = { groups, scheduleSummary: async (g) => void scheduled.add(g) };
  });
  afterAll(async () => {
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  it('a task-level webhook, a task-level alert message and a DAG-level /heal converge on one incident', async () => {
    const run = {
      platform: 'airflow',
      dagId: 'billing_daily',
      runId: 'scheduled__2026-05-01T02:00:00+00:00',
    } as const;
    const viaWebhook = await reportFailure(deps, intake, {
      target: { ...run, taskId: 'load_invoices' },
      channel: CHANNEL,
      source: 'alert',
      via: 'webhook airflow',
    });
    const viaMessage = await reportFailure(deps, intake, {
      target: { ...run, taskId: 'publish', url: 'http://airflow/dags/billing_daily/grid' },
      channel: 'C0ALERTS',
      threadTs: '1700000000.000100',
      source: 'alert',
      via: 'alert message',
    });
    const viaHeal = await groups.intake({
      target: run,
      channel: 'C0ME',
      requestedBy: 'U1',
      source: 'command',
      via: '/heal',
    });
    expect(viaWebhook.kind).toBe('started');
    expect(viaMessage).toMatchObject({ kind: 'joined', incidentId: viaWebhook.incidentId, count: 2 });
    expect(viaHeal).toMatchObject({ kind: 'joined', incidentId: viaWebhook.incidentId, count: 3 });
    // The incident is the first report's: its id is the deterministic id of that target.
    expect(viaWebhook.incidentId).toBe(incidentId({ ...run, taskId: 'load_invoices' }));
    expect(
      enqueued.filter((e) => e.target.platform === 'airflow' && e.target.dagId === 'billing_daily'),
    ).toHaveLength(1);
  });

  it('a 100-alert storm over 3 DAG runs becomes 3 investigations and 3 counter messages (Slack calls counted)', async () => {
    const before = enqueued.length;
    const runs = ['r1', 'r2', 'r3'].map((r) => `manual__2026-05-02T0${r.slice(1)}:00:00+00:00`);
    const targets: Target[] = [];
    for (let i = 0; i < 100; i++) {
      // 40 failing tasks on the first run (each alerted twice or more by two bots / retries), the rest split.
      const runId = i < 80 ? (runs[0] as string) : (runs[1 + (i % 2)] as string);
      targets.push({ platform: 'airflow', dagId: 'events_etl', runId, taskId: `task_${i % 40}` });
    }
    const results = await Promise.all(
      targets.map((target, i) =>
        reportFailure(deps, intake, {
          target,
          channel: CHANNEL,
          source: 'alert',
          via: i % 2 ? 'bot A' : 'bot B',
          label: target.platform === 'airflow' ? target.taskId : '',
        }),
      ),
    );
    expect(enqueued.length - before).toBe(3);
    expect(new Set(results.map((r) => r.incidentId)).size).toBe(3);
    const gids = [...new Set(targets.map(groupId))];
    expect(gids.every((g) => scheduled.has(g))).toBe(true);

    // The worker side: each incident has its thread; the counter job posts once, then updates in place.
    const slack = await startFakeSlack();
    try {
      const publisher = new SlackPublisher({
        token: 'xoxb-test',
        slackApiUrl: slack.apiUrl,
        postIntervalMs: 0,
      });
      for (const r of results.filter((x) => x.kind === 'started'))
        await incidents.setParentTs(r.incidentId, `17000000${r.incidentId.length}.000001`);
      const summaryDeps = { groups, incidents, publisher };
      for (const g of gids) expect(await postGroupSummary(summaryDeps, g)).toBe('posted');
      expect(await postGroupSummary(summaryDeps, gids[0] as string)).toBe('updated');
      expect(slack.callsOf('chat.postMessage')).toHaveLength(3);
      expect(slack.callsOf('chat.update')).toHaveLength(1);
      const first = [...slack.messages.values()].find((m) => m.text.includes('80 alerts'));
      expect(first?.text).toMatch(/^80 alerts grouped into inc_/);
      expect(JSON.stringify(first?.blocks)).toContain('task_0');
    } finally {
      await slack.close();
    }
  });

  it('suppresses alerts for a just-resolved incident, but never a /heal', async () => {
    const target = { platform: 'spark', appId: 'application_1700000000000_0099' } as const;
    const first = await reportFailure(deps, intake, {
      target,
      channel: CHANNEL,
      source: 'alert',
      via: 'alert message',
    });
    await incidents.close(first.incidentId);
    const again = await reportFailure(deps, intake, {
      target: { ...target, attempt: '2' },
      channel: CHANNEL,
      source: 'alert',
      via: 'alert message',
    });
    expect(again).toMatchObject({ kind: 'suppressed', incidentId: first.incidentId });
    const heal = await groups.intake({ target, channel: CHANNEL, source: 'command', via: '/heal' });
    expect(heal.kind).toBe('joined');
  });
});
