import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosSeed, seeded } from './rng.ts';
import { aliasIds, type ChaosStack, startChaosStack, threadProblems } from './stack.ts';

const N = 20;

describe(`worker SIGKILLed at random points of ${N} investigations`, () => {
  let stack: ChaosStack;
  const seed = chaosSeed();
  const rand = seeded(seed);
  beforeAll(async () => {
    // Every History Server answer takes 80 ms, so investigations span several checkpoints.
    // A 6 s lock: short enough to resume a killed worker's jobs well within the test, long enough that a
    // CPU-starved CI machine (other test files, workers booting) does not add stalls of its own to the kills.
    stack = await startChaosStack({ delayMs: 40, workers: 2, env: { HEAL_JOB_LOCK_MS: '6000' } });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('completes every investigation exactly once with no duplicate Slack posts', async () => {
    const apps = aliasIds(N, 7100);
    const ids = await Promise.all(apps.map((a, i) => stack.heal(a, `C0KILL${String(i).padStart(3, '0')}`)));
    expect(new Set(ids).size).toBe(N);
    const published = async () =>
      (
        await Promise.all(ids.map((id) => stack.redis.hget(`${stack.prefix}:incident:${id}`, 'checkpoint')))
      ).filter((c) => c === 'published').length;
    console.log(`chaos seed ${seed}`);
    let kills = 0;
    while (kills < 4 && (await published()) < N) {
      await new Promise((r) => setTimeout(r, 200 + rand() * 1500));
      const live = stack.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
      const victim = live[Math.floor(rand() * live.length)];
      if (!victim) break;
      victim.child.kill('SIGKILL');
      await victim.exited;
      kills++;
      await stack.startWorker();
    }
    const recs = [];
    for (const id of ids)
      recs.push(
        await stack.waitPublished(id, 60_000).catch(async (err: Error) => {
          const rec = await stack.redis.hgetall(`${stack.prefix}:incident:${id}`);
          const job = await stack.redis.hgetall(`${stack.prefix}:investigate:${id}`);
          throw new Error(
            `${err.message} (seed ${seed}, ${kills} kills): checkpoint ${rec.checkpoint}, job ${JSON.stringify({ ...job, data: undefined })}`,
          );
        }),
      );
    console.log(`chaos seed ${seed}: ${kills} SIGKILLs, ${N} incidents published`);
    expect(recs.flatMap((r) => threadProblems(stack.slack, r))).toEqual([]);
    // No worker reported completing the same job twice.
    const completed = stack.workers
      .flatMap((w) => [...w.output().matchAll(/"jobId":"(inc_[0-9a-f]+)"[^\n]*investigate job completed/g)])
      .map((m) => m[1]);
    expect(completed.length).toBe(new Set(completed).size);
    expect(stack.slack.calls.filter((c) => c.status === 200 && c.response.ok !== true)).toEqual([]);
  }, 150_000);
});
