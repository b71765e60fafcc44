import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MemorySlots,
  type PacerClock,
  RatePacer,
  RedisSlots,
  type SlotStore,
} from '../../src/report/pacer.ts';

/** A fake clock: sleeping advances time instantly, and every requested sleep is recorded. */
function fakeClock(): PacerClock & { sleeps: number[] } {
  let t = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

describe('MemorySlots + RatePacer', () => {
  it('spaces calls of one key by the interval; other keys do not wait', async () => {
    const clock = fakeClock();
    const store = new MemorySlots(clock);
    const slots = [];
    for (let i = 0; i < 3; i++) slots.push((await store.reserve('post:C1', 1000)).slot);
    expect(slots).toEqual([1_000_000, 1_001_000, 1_002_000]);
    expect((await store.reserve('post:C2', 1000)).wait).toBe(0);
    const pacer = new RatePacer(new MemorySlots(clock), clock);
    await Promise.all([1, 2, 3].map(() => pacer.acquire('post:C1', 1000)));
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it('a block (429 Retry-After) delays only its key, and interval-0 keys only wait for blocks', async () => {
    const clock = fakeClock();
    const store = new MemorySlots(clock);
    await store.block('method:chat.update', 30_000);
    expect((await store.reserve('method:chat.update', 0)).wait).toBe(30_000);
    expect((await store.reserve('method:chat.update', 1200)).wait).toBe(30_000);
    expect((await store.reserve('method:chat.update', 1200)).wait).toBe(31_200);
    expect((await store.reserve('post:C1', 1000)).wait).toBe(0);
  });

  it('re-reserves when a 429 arrives after the reservation, so nothing is sent inside Retry-After', async () => {
    const clock = fakeClock();
    const store = new MemorySlots(clock);
    const pacer = new RatePacer(store, clock);
    await store.reserve('post:C1', 1000);
    // The second caller reserved slot t+1000; while it sleeps, the first caller gets a 429 (Retry-After 5).
    const sleep = clock.sleep;
    let blocked = false;
    clock.sleep = async (ms) => {
      await sleep(ms);
      if (!blocked) {
        blocked = true;
        await store.block('post:C1', 5000);
      }
    };
    await pacer.acquire('post:C1', 1000);
    expect(clock.sleeps).toEqual([1000, 5000]);
  });
});

describe('RedisSlots (shared by every worker process)', () => {
  const redis = new Redis('redis://127.0.0.1:6379/9');
  const prefix = `healtest-${randomUUID().slice(0, 8)}`;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('hands out slots one interval apart across two stores (two processes), in reservation order', async () => {
    const a: SlotStore = new RedisSlots(redis, prefix);
    const other = new Redis('redis://127.0.0.1:6379/9');
    const b: SlotStore = new RedisSlots(other, prefix);
    const slots: number[] = [];
    for (let i = 0; i < 6; i++) slots.push((await (i % 2 ? b : a).reserve('post:CLOAD', 1000)).slot);
    for (let i = 1; i < slots.length; i++) expect((slots[i] ?? 0) - (slots[i - 1] ?? 0)).toBe(1000);
    expect((await a.reserve('post:COTHER', 1000)).wait).toBe(0);
    await other.quit();
  });

  it('a block is seen by every store and pushes later slots past it; it never shortens', async () => {
    const a = new RedisSlots(redis, prefix);
    const until = await a.block('method:chat.update', 30_000);
    expect(await a.block('method:chat.update', 1_000)).toBe(until);
    expect(await new RedisSlots(redis, prefix).blockedUntil('method:chat.update')).toBe(until);
    const first = await a.reserve('method:chat.update', 1200);
    expect(first.slot).toBe(until);
    expect((await a.reserve('method:chat.update', 1200)).slot).toBe(until + 1200);
    expect(await redis.pttl(`${prefix}:slack:pace:method:chat.update:block`)).toBeGreaterThan(0);
  });
});
