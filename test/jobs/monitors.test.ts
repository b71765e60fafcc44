import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntakeQueue } from '../../src/jobs/grouping.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import { type Monitor, runMonitor, upsertMonitorSchedulers } from '../../src/jobs/monitors.ts';
import { createInvestigateProcessor } from '../../src/jobs/processor.ts';
import type { InvestigateJobData } from '../../src/jobs/queue.ts';
import { SlackPublisher } from '../../src/report/publisher.ts';
import { type FakeSlack, startFakeSlack } from '../support/fakeSlack.ts';
import { cleanPrefix, fakeJob, newRedis, silentLog, testConfig, uniquePrefix } from './helpers.ts';

const SCENARIO_FILES = join(import.meta.dirname, '..', 'scenarios', 'dbt-empty-output-sessions', 'files');
const CHANNEL = 'C0MONITOR';

describe('silent-failure monitors', () => {
  let redis: Redis;
  let dir: string;
  let slack: FakeSlack;
  let queue: Queue;
  const prefix = uniquePrefix('monitors');
  beforeAll(async () => {
    redis = newRedis();
    slack = await startFakeSlack();
    queue = createIntakeQueue(redis, prefix);
    // A copy: the monitor reads target/ and ../history like it would in a real project checkout.
    dir = mkdtempSync(join(tmpdir(), 'heal-monitor-'));
    cpSync(SCENARIO_FILES, dir, { recursive: true });
  });
  afterAll(async () => {
    await queue.close();
    await slack.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  it('schedules one job scheduler per monitor and drops removed ones', async () => {
    const m = (id: string): Monitor => ({ id, kind: 'dbt', targetDir: '/x', every: 60_000 });
    await upsertMonitorSchedulers(queue, [m('a'), m('b')]);
    await upsertMonitorSchedulers(queue, [m('b')]);
    const keys = (await queue.getJobSchedulers(0, -1)).map((s) => (s as { key: string }).key);
    expect(keys).toEqual(['monitor:b']);
  });

  it('opens a thread for a dbt run that succeeded with an empty model, once per run', async () => {
    const config = testConfig(prefix, { HEAL_WEBHOOK_CHANNEL: CHANNEL });
    const incidents = new IncidentStore(redis, prefix);
    const enqueued: InvestigateJobData[] = [];
    const deps = {
      config,
      ctx: { config, log: silentLog, localRoots: 'any' as const },
      redis,
      incidents,
      enqueue: async (d: InvestigateJobData) => void enqueued.push(d),
    };
    const monitor: Monitor = {
      id: 'web-nightly',
      kind: 'dbt',
      targetDir: join(dir, 'target'),
      every: 900_000,
    };
    const res = await runMonitor(monitor, deps);
    expect(res.problems).toEqual([]);
    expect(res.opened).toHaveLength(1);
    const rec = await incidents.get(res.opened[0] as string);
    expect(rec?.checkpoint).toBe('diagnosed');
    expect(rec?.report?.rootCause?.category).toBe('silent.empty_output');
    expect(rec?.report?.rootCause?.culprit.id).toContain('fct_sessions');
    expect(enqueued).toEqual([expect.objectContaining({ channel: CHANNEL, source: 'alert' })]);

    // The next tick sees the same invocation: nothing new.
    expect(await runMonitor(monitor, deps)).toMatchObject({ checked: 0, opened: [] });

    // The worker publishes the stored diagnosis without collecting again: one thread in the channel.
    const publisher = new SlackPublisher({
      token: 'xoxb-test',
      slackApiUrl: slack.apiUrl,
      postIntervalMs: 0,
    });
    const processor = createInvestigateProcessor({ config, log: silentLog, redis, incidents, publisher });
    expect(await processor(fakeJob(enqueued[0] as InvestigateJobData))).toBe('diagnosed');
    const parents = slack
      .callsOf('chat.postMessage')
      .filter((c) => c.body.channel === CHANNEL && !c.body.thread_ts);
    expect(parents).toHaveLength(1);
    const parent = slack.messages.get(String(parents[0]?.response.ts));
    expect(JSON.stringify(parent?.blocks)).toContain('silent.empty_output');
  }, 30_000);
});
