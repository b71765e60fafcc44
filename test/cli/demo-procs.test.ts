import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DemoError, demoRedis, redisAnswers, startThrowawayRedis } from '../../src/cli/demo-procs.ts';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

describe('the demo Redis', () => {
  it('refuses a REDIS_URL that does not answer, saying so', async () => {
    const err = await demoRedis('redis://127.0.0.1:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DemoError);
    expect((err as Error).message).toMatch(
      /REDIS_URL is set to redis:\/\/127\.0\.0\.1:1, but no Redis answers/,
    );
  });

  it.runIf(hasRedisServer)(
    'starts a throwaway redis-server in a temp dir and removes it on close',
    async () => {
      const r = await startThrowawayRedis();
      expect(r.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(r.url).not.toBe('redis://127.0.0.1:6379');
      expect(await redisAnswers(r.url)).toBe(true);
      const dir = r.origin.match(/\((.+)\)$/)?.[1] ?? '';
      expect(existsSync(dir)).toBe(true);
      await r.close();
      expect(await redisAnswers(r.url)).toBe(false);
      expect(existsSync(dir)).toBe(false);
    },
  );
});
