import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentId } from '../../src/core/incident.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import { cleanPrefix, newRedis, TARGET, uniquePrefix } from './helpers.ts';

const redis = newRedis();
const prefix = uniquePrefix('incidents');
const store = new IncidentStore(redis, prefix);
const id = incidentId(TARGET);

describe('IncidentStore', () => {
  beforeAll(() => cleanPrefix(redis, prefix));
  afterAll(async () => {
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  it('lets exactly one of many concurrent claims win; the others get the existing incident', async () => {
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.claim({
          incidentId: id,
          target: TARGET,
          channel: 'C1',
          requestedBy: `U${i}`,
          source: 'command',
        }),
      ),
    );
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    const losers = claims.filter((c) => !c.claimed);
    expect(losers).toHaveLength(9);
    for (const l of losers) if (!l.claimed) expect(l.existing.checkpoint).toBe('claimed');
  });

  it('stores checkpoints, the parent ts and reply progress', async () => {
    const pin = {
      target: { ...TARGET, attempt: '1' },
      pinned: { ref: 'r', codeRef: null, dataRef: null, deterministic: true },
    };
    await store.checkpoint(id, 'pinned', { pin });
    await store.setParentTs(id, '123.000001');
    await store.setRepliesPosted(id, 2);
    const rec = await store.get(id);
    expect(rec).toMatchObject({
      checkpoint: 'pinned',
      parentTs: '123.000001',
      repliesPosted: 2,
      channel: 'C1',
    });
    expect(rec?.pin).toEqual(pin);
    expect(rec?.target).toEqual(TARGET);
  });

  it('lets a finally failed incident be claimed again from scratch', async () => {
    await store.checkpoint(id, 'failed', { error: 'History Server unreachable' });
    const again = await store.claim({ incidentId: id, target: TARGET, channel: 'C2', source: 'command' });
    expect(again.claimed).toBe(true);
    const rec = await store.get(id);
    expect(rec).toMatchObject({ checkpoint: 'claimed', channel: 'C2', repliesPosted: 0 });
    expect(rec?.parentTs).toBeUndefined();
    expect(rec?.pin).toBeUndefined();
  });

  it('reports the first delivery of an event id once', async () => {
    expect(await store.firstDelivery('Ev0001')).toBe(true);
    expect(await store.firstDelivery('Ev0001')).toBe(false);
    expect(await store.firstDelivery('Ev0002')).toBe(true);
  });

  it('returns null for an unknown incident', async () => {
    expect(await store.get('inc_0000000000000000')).toBeNull();
  });
});
