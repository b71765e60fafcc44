import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/jobs/audit.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import { remediateJobId } from '../../src/jobs/queue.ts';
import { listIncidents } from '../../src/jobs/views.ts';
import { cleanPrefix, newRedis, uniquePrefix } from './helpers.ts';

const redis = newRedis();
const prefix = uniquePrefix('remediate-store');
const store = new IncidentStore(redis, prefix);
const target = { platform: 'airflow' as const, dagId: 'Revenue_Daily', runId: 'scheduled__1' };

afterAll(async () => {
  await cleanPrefix(redis, prefix);
  await redis.quit();
});

describe('incident actions, feedback, indexes and the audit log (real Redis)', () => {
  it('claims one rerun per incident; a rerun that did not happen can be claimed again', async () => {
    await store.claim({ incidentId: 'inc_aa01', target, channel: 'C1', source: 'command' });
    expect(await store.claimRerun('inc_aa01', 'U1', 1)).toEqual({ claimed: true });
    const second = await store.claimRerun('inc_aa01', 'U2', 2);
    expect(second.claimed).toBe(false);
    expect(second.existing?.by).toBe('U1');
    await store.setRerun('inc_aa01', { by: 'U1', at: 1, status: 'error', polls: 0 });
    expect((await store.claimRerun('inc_aa01', 'U2', 3)).claimed).toBe(true);
    await expect(store.claimRerun('inc_missing', 'U1', 1)).rejects.toThrow(/no such incident/);
  });

  it('records one vote per user and lists open / history incidents; dismiss closes them', async () => {
    await store.recordFeedback('inc_aa01', 'U1', 'up');
    await store.recordFeedback('inc_aa01', 'U1', 'down');
    expect(await store.recordFeedback('inc_aa01', 'U2', 'up')).toEqual({ up: 1, down: 1 });
    expect((await listIncidents(store, { name: 'revenue_daily' })).map((s) => s.incidentId)).toEqual([
      'inc_aa01',
    ]);
    expect((await listIncidents(store, 'open')).map((s) => s.incidentId)).toEqual(['inc_aa01']);
    expect((await store.dismiss('inc_aa01', 'U3', 5)).dismissed).toBe(true);
    expect((await store.dismiss('inc_aa01', 'U4', 6)).stamp.by).toBe('U3');
    expect(await listIncidents(store, 'open')).toEqual([]);
  });

  it('appends every click to the audit stream, newest first, filterable by incident', async () => {
    const audit = new AuditLog(redis, prefix);
    await audit.record({ who: 'U9', what: 'heal_rerun', incident: 'inc_aa01', result: 'refused' });
    await audit.record({ who: 'U1', what: 'heal_rerun', incident: 'inc_bb02', result: 'accepted' });
    const mine = await audit.list({ incident: 'inc_aa01' });
    expect(mine.map((e) => [e.who, e.result])).toEqual([['U9', 'refused']]);
    expect(typeof mine[0]?.when).toBe('number');
  });

  it('derives deterministic job ids without colons', () => {
    const id = remediateJobId({ kind: 'follow', incidentId: 'inc_aa01', user: 'U1', at: 7, poll: 2 });
    expect(id).toBe('follow_inc_aa01_7_2');
  });
});
