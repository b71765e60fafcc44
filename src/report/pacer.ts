import type { Redis } from 'ioredis';

/** Clock and sleep, injectable so tests can check pacing without timing. */
export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: PacerClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A reserved send time: `slot` is absolute (ms, the store's clock), `wait` is how long until it. */
export interface Slot {
  slot: number;
  wait: number;
}

/**
 * Where the pacing state lives. Every worker process must share it (Slack's limits are per channel and per
 * method for the whole app), so production uses {@link RedisSlots}; {@link MemorySlots} is for one process.
 */
export interface SlotStore {
  /** Reserves the next send time for `key`: `intervalMs` after the previous one, and after any block. */
  reserve(key: string, intervalMs: number): Promise<Slot>;
  /** Blocks `key` for `ms` (a 429's Retry-After); returns the absolute end of the block. */
  block(key: string, ms: number): Promise<number>;
  /** The absolute end of `key`'s current block (0 when none). */
  blockedUntil(key: string): Promise<number>;
}

// Redis TIME, so every process agrees on "now". Numbers stay exact: epoch ms fit in a Lua double.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

const RESERVE = `${NOW}
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local blk = tonumber(redis.call('GET', KEYS[2]) or '0')
local slot = math.max(now, nxt, blk)
local interval = tonumber(ARGV[1])
if interval > 0 then
  redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', slot + interval - now + 1000)
end
return {tostring(slot), tostring(slot - now)}`;

const BLOCK = `${NOW}
local untl = now + tonumber(ARGV[1])
local blk = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > blk then
  redis.call('SET', KEYS[1], tostring(untl), 'PX', tonumber(ARGV[1]) + 1000)
  return tostring(untl)
end
return tostring(blk)`;

/** Pacing state in Redis, updated atomically by Lua scripts using the server's clock. */
export class RedisSlots implements SlotStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private keys(key: string): [string, string] {
    const base = `${this.prefix}:slack:pace:${key}`;
    return [`${base}:next`, `${base}:block`];
  }

  async reserve(key: string, intervalMs: number): Promise<Slot> {
    const res = (await this.redis.eval(RESERVE, 2, ...this.keys(key), String(intervalMs))) as [
      string,
      string,
    ];
    return { slot: Number(res[0]), wait: Number(res[1]) };
  }

  async block(key: string, ms: number): Promise<number> {
    return Number(await this.redis.eval(BLOCK, 1, this.keys(key)[1], String(Math.ceil(ms))));
  }

  async blockedUntil(key: string): Promise<number> {
    return Number((await this.redis.get(this.keys(key)[1])) ?? 0);
  }
}

/** The same semantics in one process's memory (tests, and publishers built without Redis). */
export class MemorySlots implements SlotStore {
  private readonly next = new Map<string, number>();
  private readonly blocks = new Map<string, number>();

  constructor(private readonly clock: PacerClock = realClock) {}

  async reserve(key: string, intervalMs: number): Promise<Slot> {
    const now = this.clock.now();
    const slot = Math.max(now, this.next.get(key) ?? 0, this.blocks.get(key) ?? 0);
    if (intervalMs > 0) this.next.set(key, slot + intervalMs);
    return { slot, wait: slot - now };
  }

  async block(key: string, ms: number): Promise<number> {
    const until = Math.max(this.clock.now() + ms, this.blocks.get(key) ?? 0);
    this.blocks.set(key, until);
    return until;
  }

  async blockedUntil(key: string): Promise<number> {
    return this.blocks.get(key) ?? 0;
  }
}

/**
 * Spaces Slack calls per key (`post:<channel>`, `method:<name>`) through a shared {@link SlotStore}: each
 * call
 * reserves a slot, sleeps until it, and re-reserves if a 429 blocked the key after the reservation, so no
 * request is sent before a Retry-After has elapsed. Keys never wait for each other.
 */
export class RatePacer {
  constructor(
    private readonly store: SlotStore,
    private readonly clock: PacerClock = realClock,
  ) {}

  /** Resolves when a call under `key` may be sent (at most one per `intervalMs`; 0: only blocks apply). */
  async acquire(key: string, intervalMs: number): Promise<void> {
    for (let i = 0; ; i++) {
      const { slot, wait } = await this.store.reserve(key, intervalMs);
      if (wait > 0) await this.clock.sleep(wait);
      const until = await this.store.blockedUntil(key);
      if (until <= slot || i >= 20) return;
    }
  }

  /** Honours a 429: nothing under `key` is sent for `ms`, in any process sharing the store. */
  block(key: string, ms: number): Promise<number> {
    return this.store.block(key, ms);
  }
}
