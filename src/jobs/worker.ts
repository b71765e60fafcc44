import { Worker } from 'bullmq';
import { type Config, requireSlack } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { SlackPublisher } from '../report/publisher.ts';
import { scheduleFixTimeout } from './escalation.ts';
import { startFixWorker } from './fix-worker.ts';
import { AlertGroups } from './grouping.ts';
import { IncidentStore } from './incidents.ts';
import { startIntakeWorker } from './intake-worker.ts';
import {
  createInvestigateProcessor,
  failStalledInvestigation,
  type ProcessorDeps,
  type Publisher,
  type Steps,
} from './processor.ts';
import { createInvestigateQueue, createRedis, enqueueInvestigation, INVESTIGATE_QUEUE } from './queue.ts';
import { startRemediateWorker } from './remediate.ts';

export interface WorkerHandle {
  close(): Promise<void>;
}

/**
 * BullMQ worker options from config. A SIGKILLed worker's lock expires after HEAL_JOB_LOCK_MS; the
 * stalled-job check runs at half that, so a restarted (or sibling) worker picks the job up quickly.
 */
export function workerOptions(config: Config) {
  const lockDuration = config.HEAL_JOB_LOCK_MS;
  return {
    concurrency: config.HEAL_WORKER_CONCURRENCY,
    lockDuration,
    stalledInterval: Math.max(1_000, Math.floor(lockDuration / 2)),
    // Jobs resume from their last checkpoint, so a stall (a worker killed or frozen mid-job) costs little;
    // only a job that stalls this often is given up (and says so in its thread, failStalledInvestigation).
    maxStalledCount: 6,
    prefix: config.HEAL_QUEUE_PREFIX,
  };
}

/**
 * `heal worker`: runs the `investigate` processor until close() (the CLI calls it on SIGTERM),
 * which waits for running jobs to reach a checkpoint-safe end and disconnects from Redis.
 */
export async function startWorker(
  config: Config,
  log: Logger,
  overrides: { publisher?: Publisher; steps?: Steps } = {},
): Promise<WorkerHandle> {
  const { botToken } = requireSlack(config, { web: false });
  const redis = createRedis(config, { worker: true });
  const incidents = new IncidentStore(redis, config.HEAL_QUEUE_PREFIX, log);
  const slackOptions = {
    token: botToken,
    slackApiUrl: config.SLACK_API_URL,
    logger: log,
    // Pacing state shared by every worker process: Slack's limits are per channel / per app.
    redis: { client: redis, prefix: config.HEAL_QUEUE_PREFIX },
    updateIntervalMs: config.HEAL_SLACK_UPDATE_INTERVAL_MS,
  };
  const publisher = overrides.publisher ?? new SlackPublisher(slackOptions);
  // Investigations retry publishing on their own, from the `diagnosed` checkpoint with backoff and no worker
  // slot held (src/jobs/publish.ts): one retry layer for that hop, so their publisher makes no retries.
  const threads = overrides.publisher ?? new SlackPublisher({ ...slackOptions, retryConfig: { retries: 0 } });
  // Approved fixes and approval-timeout checks (issue 7); started first so investigations can schedule.
  const fix = await startFixWorker({ config, log, redis, incidents, publisher }, workerOptions(config));
  const processorDeps: ProcessorDeps = {
    config,
    log,
    redis,
    incidents,
    publisher: threads,
    escalation: {
      fixes: fix.fixes,
      scheduleFixTimeout: (incidentId, delayMs) => scheduleFixTimeout(fix.queue, incidentId, delayMs),
    },
    ...(overrides.steps ? { steps: overrides.steps } : {}),
  };
  const processor = createInvestigateProcessor(processorDeps);
  const worker = new Worker(INVESTIGATE_QUEUE, processor, { connection: redis, ...workerOptions(config) });
  worker.on('failed', (job, err) => {
    log.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message }, 'investigate job failed');
    if (job && /stalled more than allowable limit/.test(err.message))
      failStalledInvestigation(processorDeps, job, err.message).catch((e) =>
        log.error({ jobId: job.id, err: errorMessage(e) }, 'could not report a stalled-out investigation'),
      );
  });
  worker.on('completed', (job, result) => log.info({ jobId: job.id, result }, 'investigate job completed'));
  worker.on('error', (err) => log.error({ err: errorMessage(err) }, 'worker error'));
  await worker.waitUntilReady();
  const remediate = await startRemediateWorker(
    { config, log, redis, incidents, publisher },
    workerOptions(config),
  );
  // Intake (issue 8): grouped-alert counters and silent-failure monitors on the `intake` queue.
  const investigateQueue = createInvestigateQueue(redis, config.HEAL_QUEUE_PREFIX);
  const intake = await startIntakeWorker(
    {
      config,
      log,
      redis,
      incidents,
      publisher,
      // Monitors read the directories the operator's monitors file names (not platform data).
      ctx: { config, log: log.child({ component: 'monitor' }), localRoots: 'any' },
      groups: new AlertGroups(redis, config.HEAL_QUEUE_PREFIX, incidents, {
        suppressMs: config.HEAL_SUPPRESS_MS,
      }),
      enqueue: (data) => enqueueInvestigation(investigateQueue, data),
    },
    config.HEAL_QUEUE_PREFIX,
  );
  log.info({ concurrency: config.HEAL_WORKER_CONCURRENCY, lockMs: config.HEAL_JOB_LOCK_MS }, 'worker ready');
  return {
    async close() {
      await Promise.all([
        worker.close(),
        remediate.close(),
        fix.close(),
        intake.close(),
        investigateQueue.close(),
      ]);
      await redis.quit().catch(() => undefined);
    },
  };
}
