import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PinResult } from '../../src/adapters/types.ts';
import type { Report } from '../../src/core/report.ts';
import type { Target } from '../../src/core/target.ts';
import { computeDigest, type Digest } from '../../src/jobs/digest.ts';
import { INTAKE_QUEUE } from '../../src/jobs/grouping.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import { type IntakeWorkerDeps, postDigest, startIntakeWorker } from '../../src/jobs/intake-worker.ts';
import { recordOutcome, recordRecurrence } from '../../src/jobs/recurrence.ts';
import type { SlackMessage } from '../../src/report/types.ts';
import { cleanPrefix, newRedis, sampleReport, silentLog, testConfig, uniquePrefix } from './helpers.ts';

type RC = Partial<NonNullable<Report['rootCause']>>;

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);

function report(
  id: string,
  target: Target,
  rootCause: Partial<NonNullable<Report['rootCause']>> | null,
): Report {
  const pin = {
    target,
    pinned: { ref: 'r', codeRef: null, dataRef: null, deterministic: true },
  } as PinResult;
  const r = sampleReport(id, pin);
  const evidence = [
    ...r.evidence,
    { id: 'E9', source: 'spark.app', title: 'Application nightly_orders', excerpt: '', ref: '/' },
  ];
  return { ...r, evidence, rootCause: rootCause && r.rootCause ? { ...r.rootCause, ...rootCause } : null };
}

/** One stored incident created `ageMs` before NOW, its root cause posted `ttrcMs` later. */
async function seed(
  store: IncidentStore,
  redis: Redis,
  prefix: string,
  s: { id: string; target: Target; ageMs: number; ttrcMs?: number; rc?: RC | null },
) {
  await store.claim({ incidentId: s.id, target: s.target, channel: 'C0ALERTS', source: 'alert' });
  const createdAt = NOW - s.ageMs;
  await redis.hset(store.key(s.id), 'createdAt', String(createdAt));
  await redis.zadd(`${prefix}:idx:all`, createdAt, s.id);
  if (s.rc === undefined) return;
  const r = report(s.id, s.target, s.rc);
  await store.checkpoint(s.id, 'diagnosed', { report: r });
  await redis.zadd(`${prefix}:idx:all`, createdAt, s.id);
  if (s.ttrcMs !== undefined)
    await redis.hset(store.key(s.id), 'checkpoint', 'published', 'publishedAt', String(createdAt + s.ttrcMs));
  await recordRecurrence(redis, prefix, s.id, r, { at: createdAt, escalateAfter: 3 });
}

const spark = (n: number): Target => ({ platform: 'spark', appId: `app-2026111${n}021500-0042` });
const dbt: Target = { platform: 'dbt', cloudRunId: '70403103' };
const skew: RC = {
  category: 'spark.data_skew' as const,
  summary: 'Key cust_0042 holds 61% of rows in stage 3',
  culprit: { kind: 'stage', id: '3' },
};

describe('weekly digest', () => {
  let redis: Redis;
  const prefix = uniquePrefix('digest');
  let store: IncidentStore;
  let digest: Digest;

  beforeAll(async () => {
    redis = newRedis();
    store = new IncidentStore(redis, prefix);
    await seed(store, redis, prefix, {
      id: 'inc_a1',
      target: spark(1),
      ageMs: 6 * DAY,
      ttrcMs: 60_000,
      rc: skew,
    });
    await seed(store, redis, prefix, {
      id: 'inc_a2',
      target: spark(2),
      ageMs: 4 * DAY,
      ttrcMs: 120_000,
      rc: { ...skew, summary: 'Key cust_0913 holds 58% of rows in stage 3' },
    });
    await seed(store, redis, prefix, {
      id: 'inc_a3',
      target: spark(3),
      ageMs: 1 * DAY,
      ttrcMs: 300_000,
      rc: skew,
    });
    await seed(store, redis, prefix, {
      id: 'inc_b1',
      target: dbt,
      ageMs: 2 * DAY,
      ttrcMs: 30_000,
      rc: {
        category: 'dbt.missing_column' as const,
        summary: 'column "revenue" does not exist',
        culprit: { kind: 'model', id: 'model.shop.fct_orders' },
      },
    });
    await seed(store, redis, prefix, { id: 'inc_c1', target: spark(4), ageMs: 3 * DAY, rc: null });
    await seed(store, redis, prefix, { id: 'inc_d1', target: spark(5), ageMs: 2 * DAY });
    await store.checkpoint('inc_d1', 'failed', { error: 'History Server unreachable' });
    await seed(store, redis, prefix, {
      id: 'inc_old',
      target: spark(6),
      ageMs: 8 * DAY,
      ttrcMs: 10_000,
      rc: skew,
    });
    // Outcomes: a1's rerun succeeded, a2's failed; b1's fix opened a pull request; votes on b1.
    await store.setRerun('inc_a1', { by: 'U1', at: NOW - 6 * DAY, status: 'succeeded', polls: 2 });
    await recordOutcome(redis, prefix, 'inc_a1', {
      kind: 'rerun',
      result: 'succeeded',
      by: 'U1',
      at: NOW - 6 * DAY,
    });
    await store.setRerun('inc_a2', { by: 'U2', at: NOW - 4 * DAY, status: 'failed', polls: 2 });
    await redis.hset(
      store.key('inc_b1'),
      'fix',
      JSON.stringify({ by: 'U3', at: NOW - 2 * DAY, status: 'opened' }),
    );
    await store.recordFeedback('inc_b1', 'U1', 'up');
    await store.recordFeedback('inc_b1', 'U2', 'up');
    await store.recordFeedback('inc_a3', 'U3', 'down');
    digest = await computeDigest({ redis, prefix, incidents: store }, { from: NOW - 7 * DAY, to: NOW });
  });
  afterAll(async () => {
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  it('counts the week’s incidents by outcome, leaving older ones out', () => {
    expect(digest.incidents).toEqual({ total: 6, diagnosed: 4, abstained: 1, failed: 1, inProgress: 0 });
    expect(digest.categories).toEqual([
      { category: 'spark.data_skew', count: 3 },
      { category: 'dbt.missing_column', count: 1 },
    ]);
  });

  it('measures time to root cause from the incident to the posted root cause', () => {
    expect(digest.timeToRootCause).toEqual({ count: 4, p50Ms: 60_000, p90Ms: 300_000, maxMs: 300_000 });
  });

  it('gives rerun and fix outcomes and the votes', () => {
    expect(digest.reruns).toEqual({ requested: 2, succeeded: 1, failed: 1, pending: 0 });
    expect(digest.fixes).toEqual({ approved: 1, opened: 1, failed: 0, pending: 0 });
    expect(digest.feedback).toEqual({ up: 2, down: 1 });
  });

  it('ranks failure signatures by how often they recurred, with how they were last fixed', () => {
    expect(digest.top.map((s) => [s.category, s.count])).toEqual([
      ['spark.data_skew', 3],
      ['dbt.missing_column', 1],
    ]);
    const [top] = digest.top;
    expect(top).toMatchObject({ pipeline: 'nightly_orders', culprit: 'stage 3', lastIncidentId: 'inc_a3' });
    expect(top?.lastFix).toMatchObject({ kind: 'rerun', by: 'U1' });
    expect(top?.error).toContain('holds <n>% of rows');
    expect(digest.top[1]?.culprit).toBe('model.shop.fct_orders');
  });

  it('posts once per scheduled run: a retry after a Slack error posts, a retry after the post does not', async () => {
    const posted: Array<{ channel: string; msg: SlackMessage }> = [];
    let failNext = true;
    const deps = {
      config: testConfig(prefix, { HEAL_DIGEST_CHANNEL: 'C0DIGEST' }),
      redis,
      incidents: store,
      log: silentLog,
      now: () => NOW,
      publisher: {
        async postMessage(channel: string, msg: SlackMessage) {
          if (failNext) {
            failNext = false;
            throw new Error('slack 500');
          }
          posted.push({ channel, msg });
          return '1700000000.000100';
        },
        async update() {},
      },
    } as unknown as IntakeWorkerDeps;
    await expect(postDigest(deps, 'repeat:digest:1')).rejects.toThrow('slack 500');
    expect(await postDigest(deps, 'repeat:digest:1')).toBe('posted 1700000000.000100');
    expect(await postDigest(deps, 'repeat:digest:1')).toBe('already posted');
    expect(posted).toHaveLength(1);
    expect(posted[0]?.channel).toBe('C0DIGEST');
    expect(posted[0]?.msg.text).toContain('6 incidents, 4 diagnosed');
  });

  it('schedules the digest with its cron and time zone, and drops the schedule when the channel goes', async () => {
    const base = {
      redis,
      incidents: store,
      log: silentLog,
      publisher: { postMessage: async () => 'ts', update: async () => {} },
    };
    const on = testConfig(prefix, {
      HEAL_DIGEST_CHANNEL: 'C0DIGEST',
      HEAL_DIGEST_CRON: '30 8 * * 1',
      HEAL_DIGEST_TZ: 'Europe/Paris',
    });
    const w1 = await startIntakeWorker({ ...base, config: on } as unknown as IntakeWorkerDeps, prefix);
    const queue = new Queue(INTAKE_QUEUE, { connection: redis, prefix });
    const s = await queue.getJobScheduler('digest');
    expect(s).toMatchObject({ pattern: '30 8 * * 1', tz: 'Europe/Paris' });
    await w1.close();
    const w2 = await startIntakeWorker(
      { ...base, config: testConfig(prefix) } as unknown as IntakeWorkerDeps,
      prefix,
    );
    expect(await queue.getJobScheduler('digest')).toBeFalsy();
    await w2.close();
    await queue.close();
  });
});
