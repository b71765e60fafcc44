import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PinResult } from '../../src/adapters/types.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import { normaliseError, recordRecurrence } from '../../src/jobs/recurrence.ts';
import { renderParent } from '../../src/report/blocks.ts';
import { cleanPrefix, newRedis, sampleReport, TARGET, uniquePrefix } from './helpers.ts';

const pin = (appId: string): PinResult =>
  ({
    target: { ...TARGET, appId },
    pinned: { ref: `${appId}/1`, codeRef: null, dataRef: null, deterministic: true },
  }) as unknown as PinResult;

function reportFor(incidentId: string, appId: string, summary: string) {
  const r = sampleReport(incidentId, pin(appId));
  return { ...r, rootCause: r.rootCause ? { ...r.rootCause, summary } : null };
}

describe('recurrence memory', () => {
  let redis: Redis;
  const prefix = uniquePrefix('recur');
  beforeAll(() => {
    redis = newRedis();
  });
  afterAll(async () => {
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  it('normalises what differs between occurrences, not what differs between errors', () => {
    const a = normaliseError('Task 37 in stage 3.0 read 7.1 GiB for key "cust_0042" at 2026-05-01T02:00:00Z');
    const b = normaliseError(
      'Task 112 in stage 3.0 read 9.8 GiB for key "cust_0913" at 2026-05-02T02:00:00Z',
    );
    expect(a).toBe(b);
    expect(normaliseError('column revenue does not exist')).not.toBe(
      normaliseError('column price does not exist'),
    );
  });

  it('a recurring failure gets its badge: seen N times in 7 days, last fixed by a rerun, escalated past the threshold', async () => {
    const store = new IncidentStore(redis, prefix);
    const now = Date.now();
    const opts = { at: now, escalateAfter: 3 };
    const first = await recordRecurrence(
      redis,
      prefix,
      'inc_00000000000000a1',
      reportFor('inc_00000000000000a1', 'app-1', 'Key cust_0042 holds 61% of rows in stage 3'),
      { ...opts, at: now - 2 * 86_400_000 },
    );
    expect(first?.seen).toBe(1);
    expect(
      renderParent({
        incidentId: 'inc_00000000000000a1',
        target: TARGET,
        phase: 'diagnosed',
        report: reportFor('inc_00000000000000a1', 'app-1', 'x'),
        ...(first ? { recurrence: first } : {}),
      }).blocks.some((b) => b.block_id === 'heal_recurrence'),
    ).toBe(false);

    // The first incident's rerun succeeded (recorded through the incident store, as the remediate job does;
    // the store writes only into a claimed incident).
    await store.claim({
      incidentId: 'inc_00000000000000a1',
      target: TARGET,
      channel: 'C1',
      source: 'command',
    });
    await store.setRerun('inc_00000000000000a1', {
      by: 'U0ONCALL',
      at: now - 86_400_000,
      status: 'succeeded',
      polls: 0,
    });
    // Recording is idempotent (a restarted job records once).
    await recordRecurrence(
      redis,
      prefix,
      'inc_00000000000000a2',
      reportFor('inc_00000000000000a2', 'app-2', 'Key cust_0913 holds 58% of rows in stage 3'),
      opts,
    );
    const second = await recordRecurrence(
      redis,
      prefix,
      'inc_00000000000000a2',
      reportFor('inc_00000000000000a2', 'app-2', 'Key cust_0913 holds 58% of rows in stage 3'),
      opts,
    );
    expect(second).toMatchObject({
      seen: 2,
      escalate: false,
      lastFix: { kind: 'rerun', result: 'succeeded', by: 'U0ONCALL' },
    });
    const msg = renderParent({
      incidentId: 'inc_00000000000000a2',
      target: TARGET,
      phase: 'diagnosed',
      report: reportFor('inc_00000000000000a2', 'app-2', 'y'),
      ...(second ? { recurrence: second } : {}),
    });
    const badge = JSON.stringify(msg.blocks.find((b) => b.block_id === 'heal_recurrence'));
    expect(badge).toContain('Seen 2 times in 7 days');
    expect(badge).toContain('last fixed by rerun (succeeded) by <@U0ONCALL>');

    const third = await recordRecurrence(
      redis,
      prefix,
      'inc_00000000000000a3',
      reportFor('inc_00000000000000a3', 'app-3', 'Key cust_7 holds 70% of rows in stage 3'),
      opts,
    );
    expect(third).toMatchObject({ seen: 3, escalate: true });
    const other = await recordRecurrence(
      redis,
      prefix,
      'inc_00000000000000b1',
      reportFor('inc_00000000000000b1', 'app-4', 'Executor lost: container killed by YARN'),
      opts,
    );
    expect(other?.seen).toBe(1);
  });
});

describe('failure signatures name the pipeline', () => {
  it('tells two Spark jobs failing in their stage 3 apart, and keeps one job failing twice together', async () => {
    const { failureSignature, signatureHash } = await import('../../src/jobs/recurrence.ts');
    const base = {
      id: 'inc_0000000000000001',
      target: { platform: 'spark' as const, appId: 'app-1' },
      pinned: { ref: 'app-1', codeRef: null, dataRef: null, deterministic: true },
      hypotheses: [],
      rootCause: {
        category: 'spark.data_skew' as const,
        confidence: 88,
        culprit: { kind: 'stage' as const, id: '3' },
        summary: 'The failing task(s) of stage 3 carried far more data than the others.',
        evidence: ['E1'],
      },
      remediation: { action: 'fix' as const, summary: '', fix: null, prevention: '', monitoring: '' },
      engine: 'rules' as const,
      gaps: [],
    };
    const app = (name: string, appId: string) => ({
      ...base,
      target: { platform: 'spark' as const, appId },
      evidence: [{ id: 'E1', source: 'spark.app', title: `Application ${name}`, excerpt: '', ref: '/' }],
    });
    const hash = (r: ReturnType<typeof app>) => {
      const sig = failureSignature(r);
      if (!sig) throw new Error('no signature');
      return signatureHash(sig);
    };
    expect(hash(app('orders_enrichment', 'app-1'))).toBe(hash(app('orders_enrichment', 'app-2')));
    expect(hash(app('orders_enrichment', 'app-1'))).not.toBe(hash(app('clickstream_rollup', 'app-3')));
  });
});
