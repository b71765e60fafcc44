import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../e2e/procs.ts';
import { type RedisCluster, startRedisCluster } from './redis.ts';
import { aliasIds, type ChaosStack, startChaosStack, threadProblems } from './stack.ts';

describe('the investigate flow on a 3-master Redis Cluster (hash-tagged prefix), with a master restart', () => {
  let cluster: RedisCluster;
  let stack: ChaosStack;
  const prefix = `{healc-${randomUUID().slice(0, 6)}}`;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    stack = await startChaosStack({ clusterNodes: cluster.seeds, prefix, workers: 1 });
  }, 90_000);
  afterAll(async () => {
    await stack?.close();
    await cluster?.destroy();
  });

  it('investigates, survives the restart of the master holding the prefix slot, keeps one slot', async () => {
    const first = await Promise.all(aliasIds(4, 7500).map((a, i) => stack.heal(a, `C0CLUSTER${i}`)));
    expect(first.every(Boolean)).toBe(true);
    for (const id of first) await stack.waitPublished(id, 60_000);

    const owner = await cluster.masterOf(`${prefix}:incident:x`);
    await owner.restart(1_000);
    await cluster.waitOk();
    await waitFor(
      'healthz ok after the master restart',
      async () => {
        const res = await fetch(`${stack.base}/healthz`).catch(() => null);
        return res?.status === 200;
      },
      30_000,
    );

    const second = await Promise.all(aliasIds(4, 7600).map((a, i) => stack.heal(a, `C0CLUSTERB${i}`)));
    expect(second.every(Boolean)).toBe(true);
    const recs = [];
    for (const id of [...first, ...second]) recs.push(await stack.waitPublished(id, 90_000));
    expect(recs.flatMap((r) => threadProblems(stack.slack, r))).toEqual([]);

    // Every key Heal wrote lives on the owner of the prefix's slot (no cross-slot keys anywhere else).
    const perNode = await Promise.all(cluster.nodes.map(async (n) => (await n.cli('KEYS', '*')).trim()));
    const ownerIndex = cluster.nodes.indexOf(owner);
    perNode.forEach((keys, i) => {
      if (i !== ownerIndex) expect(keys).toBe('');
    });
    expect(perNode[ownerIndex]).toContain(`${prefix}:incident:`);
    expect(stack.workers[0]?.output()).not.toMatch(/CROSSSLOT/);
    console.log(
      `cluster: ${recs.length} incidents published; ${perNode[ownerIndex]?.split('\n').length} keys in one slot`,
    );
  }, 180_000);
});
