import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../e2e/procs.ts';
import { type RedisServer, startRedisServer } from './redis.ts';
import { aliasIds, type ChaosStack, startChaosStack, threadProblems } from './stack.ts';

const healthz = async (base: string) => {
  const res = await fetch(`${base}/healthz`).catch(() => null);
  return res ? `${res.status} ${(await res.text()).trim()}` : 'unreachable';
};

describe('Redis (AOF on) restarted mid-load', () => {
  let redis: RedisServer;
  let stack: ChaosStack;
  beforeAll(async () => {
    redis = await startRedisServer();
    stack = await startChaosStack({ redisUrl: `redis://127.0.0.1:${redis.port}`, delayMs: 60, workers: 2 });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await redis?.destroy();
  });

  it('loses no incident; web and workers reconnect; /healthz reports the outage while it lasts', async () => {
    const before = aliasIds(10, 7300);
    const ids = await Promise.all(before.map((a, i) => stack.heal(a, `C0REDIS${i}`)));
    expect(ids.every(Boolean)).toBe(true);
    expect(await healthz(stack.base)).toBe('200 ok');

    await redis.stop();
    const during = await waitFor('healthz to report the outage', async () => {
      const h = await healthz(stack.base);
      return h.startsWith('503') ? h : undefined;
    });
    expect(during).toMatch(/^503 redis (reconnecting|connecting|close|end)/);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await healthz(stack.base)).toMatch(/^503 redis/);
    await redis.start();
    await waitFor('healthz ok again', async () => (await healthz(stack.base)) === '200 ok', 30_000);

    const after = aliasIds(5, 7400);
    ids.push(...(await Promise.all(after.map((a, i) => stack.heal(a, `C0REDISB${i}`)))));
    expect(ids.every(Boolean)).toBe(true);
    const recs = [];
    for (const id of ids) recs.push(await stack.waitPublished(id, 90_000));
    expect(recs.flatMap((r) => threadProblems(stack.slack, r))).toEqual([]);
    expect(stack.web.child.exitCode).toBeNull();
    expect(stack.workers.every((w) => w.child.exitCode === null)).toBe(true);
    console.log(`redis restart: ${ids.length} incidents published; healthz during outage: ${during}`);
  }, 150_000);
});
