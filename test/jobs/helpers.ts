import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Collection, PinResult } from '../../src/adapters/types.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/logger.ts';
import { Report } from '../../src/core/report.ts';
import type { Target } from '../../src/core/target.ts';
import { ok, type Upstream } from '../../src/core/upstream.ts';
import type { Steps } from '../../src/jobs/processor.ts';
import type { InvestigateJobData } from '../../src/jobs/queue.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique queue prefix per test file, so tests never see each other's keys. */
export function uniquePrefix(name: string): string {
  return `healtest-${name}-${randomUUID().slice(0, 8)}`;
}

export function testConfig(prefix: string, extra: Record<string, string> = {}) {
  return loadConfig({
    REDIS_URL,
    HEAL_QUEUE_PREFIX: prefix,
    SLACK_BOT_TOKEN: 'xoxb-test',
    LOG_LEVEL: 'silent',
    ...extra,
  });
}

export const silentLog = createLogger('silent');

/** Deletes every key under the prefix. */
export async function cleanPrefix(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
}

export function newRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

export const TARGET: Target = { platform: 'spark', appId: 'app-20260101000000-0007' };

export function sampleReport(incidentId: string, pin: PinResult): Report {
  return Report.parse({
    id: incidentId,
    target: pin.target,
    pinned: pin.pinned,
    evidence: [
      {
        id: 'E1',
        source: 'spark.stage',
        title: 'Stage 3 failed',
        excerpt: 'OutOfMemoryError',
        ref: '/stages/3',
      },
      {
        id: 'E2',
        source: 'spark.task',
        title: 'Task 37 read 7 GiB',
        excerpt: 'shuffle read 7 GiB',
        ref: '/t',
      },
    ],
    hypotheses: [
      {
        category: 'spark.data_skew',
        title: 'One hot key',
        likelihood: 90,
        status: 'confirmed',
        evidenceFor: ['E2'],
        evidenceAgainst: [],
        reasoning: 'one task read 40x the median',
      },
    ],
    rootCause: {
      category: 'spark.data_skew',
      confidence: 85,
      culprit: { kind: 'stage', id: '3' },
      summary: 'Skewed join key',
      evidence: ['E1', 'E2'],
    },
    remediation: { action: 'fix', summary: 'Salt the key', fix: null, prevention: 'AQE', monitoring: 'skew' },
    engine: 'rules',
  });
}

/** Steps that count their calls; `pinResult` / `failDiagnose` control failures. */
export function countingSteps(
  opts: { pinResult?: () => Upstream<PinResult>; failDiagnose?: () => boolean } = {},
) {
  const calls = { pin: 0, collect: 0, diagnose: 0 };
  const steps: Steps = {
    async pin(target) {
      calls.pin++;
      if (opts.pinResult) return opts.pinResult();
      const t = target.platform === 'spark' ? { ...target, attempt: '1' } : target;
      return ok({ target: t, pinned: { ref: 'app-x/1', codeRef: null, dataRef: null, deterministic: true } });
    },
    async collect(): Promise<Collection> {
      calls.collect++;
      return { evidence: [], evidenceIndex: {}, gaps: ['executor logs unreachable'], facts: { n: 1 } };
    },
    diagnose(incidentId, pin) {
      calls.diagnose++;
      if (opts.failDiagnose?.()) throw new Error('worker crashed while diagnosing');
      return sampleReport(incidentId, pin);
    },
  };
  return { steps, calls };
}

export function jobData(incidentId: string, extra: Partial<InvestigateJobData> = {}): InvestigateJobData {
  return { incidentId, target: TARGET, channel: 'C0ALERTS', requestedBy: 'U1', source: 'command', ...extra };
}

/** The slice of a BullMQ Job the processor reads. */
export function fakeJob(data: InvestigateJobData, attemptsMade = 0, attempts = 3): Job {
  return { id: data.incidentId, data, attemptsMade, opts: { attempts } } as unknown as Job;
}
