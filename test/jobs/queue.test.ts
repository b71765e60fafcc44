import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentId } from '../../src/core/incident.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import { createInvestigateQueue, enqueueInvestigation, jobIdFor } from '../../src/jobs/queue.ts';
import { startWorker, workerOptions } from '../../src/jobs/worker.ts';
import type { SlackMessage } from '../../src/report/types.ts';
import {
  cleanPrefix,
  countingSteps,
  jobData,
  newRedis,
  silentLog,
  TARGET,
  testConfig,
  uniquePrefix,
} from './helpers.ts';

const redis = newRedis();
const prefix = uniquePrefix('queue');
const config = testConfig(prefix, { HEAL_JOB_LOCK_MS: '4000', HEAL_WORKER_CONCURRENCY: '2' });
const id = incidentId(TARGET);
let queue: Queue;

describe('investigate queue + worker (real Redis, real BullMQ)', () => {
  beforeAll(async () => {
    await cleanPrefix(redis, prefix);
    queue = createInvestigateQueue(redis, prefix);
  });
  afterAll(async () => {
    await queue.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  it('derives worker options from config', () => {
    expect(workerOptions(config)).toMatchObject({
      concurrency: 2,
      lockDuration: 4000,
      stalledInterval: 2000,
      prefix,
    });
  });

  it('keeps one job per incident (deterministic job id without ":") and runs it once', async () => {
    expect(jobIdFor(id)).not.toContain(':');
    await new IncidentStore(redis, prefix).claim(jobData(id));
    await enqueueInvestigation(queue, jobData(id));
    await enqueueInvestigation(queue, jobData(id, { requestedBy: 'U2' }));
    expect(await queue.getJobCounts('waiting', 'active', 'completed')).toMatchObject({ waiting: 1 });

    const posted: string[] = [];
    let n = 0;
    const publisher = {
      postMessage: async (_c: string, msg: SlackMessage) => {
        posted.push(msg.text);
        return `100.${++n}`;
      },
      update: async () => undefined,
    };
    const { steps, calls } = countingSteps();
    const worker = await startWorker(config, silentLog, { publisher, steps });
    try {
      const job = await queue.getJob(jobIdFor(id));
      await expect
        .poll(async () => job?.getState() ?? (await queue.getJob(id))?.getState(), { timeout: 10_000 })
        .toBe('completed');
      expect(calls).toEqual({ pin: 1, collect: 1, diagnose: 1 });
      expect(posted.length).toBeGreaterThan(1);
      expect((await new IncidentStore(redis, prefix).get(id))?.checkpoint).toBe('published');
    } finally {
      await worker.close();
    }
  });

  it('rejects job data that fails the schema before it reaches Redis', async () => {
    await expect(enqueueInvestigation(queue, { ...jobData(id), incidentId: 'inc:bad' })).rejects.toThrow();
  });
});
