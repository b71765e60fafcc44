import { type Job, type Queue, Worker } from 'bullmq';
import type { Logger } from '../core/logger.ts';
import { renderDigest } from '../report/digest.ts';
import { lastWeekDigest } from './digest.ts';
import { createIntakeQueue, INTAKE_QUEUE, postGroupSummary, type SummaryDeps } from './grouping.ts';
import { loadMonitors, type MonitorDeps, runMonitor, upsertMonitorSchedulers } from './monitors.ts';

export interface IntakeWorkerDeps extends MonitorDeps, Omit<SummaryDeps, 'incidents'> {
  log: Logger;
  /** The clock (tests pin it). */
  now?: () => number;
}

const DIGEST_SCHEDULER = 'digest';

/** The weekly digest's job scheduler (cron + time zone) when HEAL_DIGEST_CHANNEL is set; removed otherwise. */
export async function upsertDigestScheduler(queue: Queue, config: IntakeWorkerDeps['config']): Promise<void> {
  if (!config.HEAL_DIGEST_CHANNEL) {
    await queue.removeJobScheduler(DIGEST_SCHEDULER);
    return;
  }
  await queue.upsertJobScheduler(
    DIGEST_SCHEDULER,
    { pattern: config.HEAL_DIGEST_CRON, tz: config.HEAL_DIGEST_TZ },
    {
      name: 'digest',
      data: {},
      opts: {
        removeOnComplete: 20,
        removeOnFail: 20,
        attempts: 5,
        backoff: { type: 'exponential', delay: 30_000 },
      },
    },
  );
}

/**
 * Computes the last seven days' digest and posts it to HEAL_DIGEST_CHANNEL once per job: the job id is
 * remembered after posting, so a retry after a Slack error posts it, a retry after the post does not.
 */
export async function postDigest(deps: IntakeWorkerDeps, jobId: string): Promise<string> {
  const channel = deps.config.HEAL_DIGEST_CHANNEL;
  if (!channel) return 'no HEAL_DIGEST_CHANNEL';
  const prefix = deps.config.HEAL_QUEUE_PREFIX;
  const postedKey = `${prefix}:digest:posted:${jobId}`;
  if (await deps.redis.get(postedKey)) return 'already posted';
  const src = { redis: deps.redis, prefix, incidents: deps.incidents };
  const digest = await lastWeekDigest(src, (deps.now ?? Date.now)());
  const ts = await deps.publisher.postMessage(channel, renderDigest(digest));
  await deps.redis.set(postedKey, ts, 'EX', 30 * 24 * 3600);
  deps.log.info({ channel, incidents: digest.incidents.total, ts }, 'weekly digest posted');
  return `posted ${ts}`;
}

/**
 * The `intake` queue's worker (concurrency 1, so one group's counter is never posted twice): group counter
 * updates, silent-failure monitor ticks and the weekly digest, all scheduled on start.
 */
export async function startIntakeWorker(
  deps: IntakeWorkerDeps,
  prefix: string,
): Promise<{ close(): Promise<void> }> {
  const monitors = loadMonitors(deps.config.HEAL_MONITORS_FILE);
  const queue = createIntakeQueue(deps.redis, prefix);
  await upsertMonitorSchedulers(queue, monitors);
  await upsertDigestScheduler(queue, deps.config);
  const byId = new Map(monitors.map((m) => [m.id, m]));
  const worker = new Worker(
    INTAKE_QUEUE,
    async (job: Job) => {
      if (job.name === 'group-summary') return postGroupSummary(deps, String(job.data.groupId));
      if (job.name === 'digest') return postDigest(deps, String(job.id));
      if (job.name === 'monitor') {
        const m = byId.get(String(job.data.monitorId));
        if (!m) return 'monitor no longer configured';
        const r = await runMonitor(m, deps);
        if (r.problems.length)
          deps.log.warn({ monitor: m.id, problems: r.problems }, 'monitor could not check');
        return r;
      }
      return `unknown job ${job.name}`;
    },
    { connection: deps.redis, prefix, concurrency: 1 },
  );
  worker.on('failed', (job, err) => deps.log.warn({ job: job?.name, err: err.message }, 'intake job failed'));
  await worker.waitUntilReady();
  if (monitors.length)
    deps.log.info({ monitors: monitors.map((m) => m.id) }, 'silent-failure monitors scheduled');
  if (deps.config.HEAL_DIGEST_CHANNEL)
    deps.log.info(
      {
        channel: deps.config.HEAL_DIGEST_CHANNEL,
        cron: deps.config.HEAL_DIGEST_CRON,
        tz: deps.config.HEAL_DIGEST_TZ,
      },
      'weekly digest scheduled',
    );
  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
