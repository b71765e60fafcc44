/**
 * `/heal` while Redis is down or stalls (issue 13 item 8): Slack drops an ack after 3 s, and ioredis queues
 * commands while disconnected. The listener must ack within 3 s saying Heal's store is unreachable, and a
 * claim Redis answers late must still be enqueued (else the incident would sit `claimed` with no job).
 * Uses a redis-server of its own (never the machine's shared one).
 */
import type { App } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDeps } from '../../src/bot/deps.ts';
import { registerHealCommand } from '../../src/bot/listeners/heal-command.ts';
import { loadConfig } from '../../src/core/config.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import type { InvestigateJobData } from '../../src/jobs/queue.ts';
import { createRedis } from '../../src/jobs/queue.ts';
import { type RedisServer, startRedisServer } from '../chaos/redis.ts';
import { waitFor } from '../e2e/procs.ts';
import { silentLog, uniquePrefix } from '../jobs/helpers.ts';

type Handler = (args: {
  command: Record<string, string>;
  ack: (m: unknown) => Promise<void>;
}) => Promise<void>;

describe('/heal while Heal’s store (Redis) is down or stalls', () => {
  let server: RedisServer;
  let handler: Handler | undefined;
  let redis: ReturnType<typeof createRedis>;
  const enqueued: InvestigateJobData[] = [];
  const ephemerals: string[] = [];

  beforeAll(async () => {
    server = await startRedisServer({ persist: false });
    const config = loadConfig({
      REDIS_URL: `redis://127.0.0.1:${server.port}`,
      HEAL_QUEUE_PREFIX: uniquePrefix('store-down'),
      LOG_LEVEL: 'silent',
    });
    // The web process's connection: ioredis' defaults (commands queue while it reconnects).
    redis = createRedis(config, { worker: false });
    redis.on('error', () => undefined);
    await waitFor('redis ready', () => redis.status === 'ready');
    const deps = {
      config,
      log: silentLog,
      incidents: new IncidentStore(redis, config.HEAL_QUEUE_PREFIX, silentLog),
      enqueue: async (data: InvestigateJobData) => {
        enqueued.push(data);
      },
      postEphemeral: async (_c: string, _u: string, text: string) => {
        ephemerals.push(text);
      },
      metrics: { ack: () => undefined },
      isSupported: () => true,
    } as unknown as BotDeps;
    const app = { command: (_name: string, fn: Handler) => (handler = fn) } as unknown as App;
    registerHealCommand(app, deps);
  }, 30_000);
  afterAll(async () => {
    redis?.disconnect();
    await server?.destroy();
  });

  async function heal(text: string): Promise<{ ms: number; reply: string }> {
    const t0 = performance.now();
    let reply = '';
    const acked = new Promise<void>((resolve) => {
      void handler?.({
        command: { text, channel_id: 'C0DOWN', user_id: 'U0DOWN' },
        ack: async (m) => {
          reply = JSON.stringify(m);
          resolve();
        },
      });
    });
    await Promise.race([acked, new Promise((r) => setTimeout(r, 15_000))]);
    return { ms: performance.now() - t0, reply };
  }

  it('acks within 3 s saying the store is unreachable while Redis is stopped', async () => {
    await server.stop();
    try {
      await waitFor('the client to notice', () => redis.status !== 'ready');
      for (const text of ['spark app-20261120021500-0901', 'status', 'history revenue_daily']) {
        const { ms, reply } = await heal(text);
        expect(ms, text).toBeLessThan(3_000);
        expect(reply, text).toMatch(/store \(Redis\) is unreachable/);
      }
      expect(enqueued).toEqual([]);
    } finally {
      await server.start();
      await waitFor('redis ready again', () => redis.status === 'ready', 20_000);
    }
  }, 60_000);

  it('acks within 3 s while Redis stalls, and still starts the investigation it claimed late', async () => {
    await server.cli('CLIENT', 'PAUSE', '3500', 'ALL');
    const { ms, reply } = await heal('spark app-20261120021500-0902');
    expect(ms).toBeLessThan(3_000);
    expect(reply).toMatch(/store \(Redis\) is unreachable/);
    await waitFor('the late claim to be enqueued', () => enqueued.length === 1, 10_000);
    expect(enqueued[0]?.target).toMatchObject({ appId: 'app-20261120021500-0902' });
    await waitFor('the user to be told', () => ephemerals.some((e) => /answered late/.test(e)));
    // Asked again: the investigation is already under way.
    const again = await heal('spark app-20261120021500-0902');
    expect(again.reply).toMatch(/already being investigated/);
  }, 30_000);
});
