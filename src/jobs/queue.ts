import { type JobsOptions, Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import { getAdapter } from '../adapters/registry.ts';
import type { Config } from '../core/config.ts';
import { type Platform, Target } from '../core/target.ts';

/** The BullMQ queue every investigation goes through. */
export const INVESTIGATE_QUEUE = 'investigate';

/** What a web process enqueues and the worker parses (zod) before doing anything. */
export const InvestigateJobData = z.object({
  incidentId: z.string().regex(/^inc_[0-9a-f]+$/),
  target: Target,
  /** Channel the thread lives in. */
  channel: z.string().min(1),
  /** Thread root for alert-triggered investigations (the alert's ts); absent for `/heal`. */
  threadTs: z.string().min(1).optional(),
  requestedBy: z.string().min(1).optional(),
  source: z.enum(['command', 'alert']),
});
export type InvestigateJobData = z.infer<typeof InvestigateJobData>;

/**
 * Retry policy of the investigation itself: exponential backoff for transient platform failures (upstream
 * 5xx, timeouts). Slack failing is not retried here: progress is best effort and the publish stage waits
 * for Slack in the delayed set without spending attempts (src/jobs/publish.ts, HEAL_PUBLISH_RETRY_MS).
 */
export const INVESTIGATE_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/**
 * An ioredis connection for REDIS_URL (a `/<db>` index in the URL is honoured by ioredis).
 * Workers need `maxRetriesPerRequest: null` (BullMQ blocking commands); the web process keeps
 * ioredis' default so a Redis outage fails a request instead of hanging the ack.
 */
export function createRedis(config: Config, opts: { worker: boolean }): Redis {
  if (config.REDIS_CLUSTER_NODES.length) return createCluster(config, opts);
  return new Redis(config.REDIS_URL, {
    ...(opts.worker ? { maxRetriesPerRequest: null } : {}),
    enableReadyCheck: true,
    lazyConnect: false,
  });
}

/**
 * A Redis Cluster client for REDIS_CLUSTER_NODES (credentials and TLS from REDIS_URL). Every key Heal
 * writes starts with HEAL_QUEUE_PREFIX, which config requires to be hash-tagged, so each Lua script and
 * MULTI stays in one slot. ioredis' Cluster offers the same command surface Heal uses (commands, eval,
 * multi, duplicate, quit, status) and BullMQ accepts it as a connection; it is typed as Redis so callers
 * stay unchanged (test/chaos/cluster.chaos.test.ts runs the whole flow against a real cluster).
 */
function createCluster(config: Config, opts: { worker: boolean }): Redis {
  const url = new URL(config.REDIS_URL);
  const nodes = config.REDIS_CLUSTER_NODES.map((n) => {
    const i = n.lastIndexOf(':');
    return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
  });
  const cluster = new Cluster(nodes, {
    enableReadyCheck: true,
    lazyConnect: false,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
    redisOptions: {
      ...(opts.worker ? { maxRetriesPerRequest: null } : {}),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
  return cluster as unknown as Redis;
}

/** The `investigate` queue under HEAL_QUEUE_PREFIX. */
export function createInvestigateQueue(connection: Redis, prefix: string): Queue {
  return new Queue(INVESTIGATE_QUEUE, { connection, prefix });
}

/** Deterministic job id: the incident id (`inc_<hex>`, no `:` as BullMQ requires). */
export function jobIdFor(incidentId: string): string {
  return incidentId;
}

/**
 * Enqueues an investigation; a job with the same incident id already in the queue is not added twice.
 * A job that finally failed is replaced (its incident was re-claimed: the user asked again).
 */
export async function enqueueInvestigation(queue: Queue, data: InvestigateJobData): Promise<void> {
  const parsed = InvestigateJobData.parse(data);
  const previous = await queue.getJob(jobIdFor(parsed.incidentId));
  if (previous && (await previous.isFailed())) await previous.remove();
  await queue.add(INVESTIGATE_QUEUE, parsed, {
    ...INVESTIGATE_JOB_OPTIONS,
    jobId: jobIdFor(parsed.incidentId),
  });
}

/** Whether a worker can investigate this platform yet (it has an adapter). */
export function isSupportedPlatform(platform: Platform): boolean {
  return getAdapter(platform) !== undefined;
}

/** The BullMQ queue of button actions that write to a platform (reruns) and their follow-ups. */
export const REMEDIATE_QUEUE = 'remediate';

/**
 * A remediate job: `rerun` (dry run, then the one write) or `follow` (one poll of the new try). `at` is the
 * rerun claim's timestamp: it names the rerun, so a job of an older, superseded rerun does nothing.
 */
export const RemediateJobData = z.object({
  kind: z.enum(['rerun', 'follow']),
  incidentId: z.string().regex(/^inc_[0-9a-f]+$/),
  /** Slack user id of the approver who clicked. */
  user: z.string().min(1),
  at: z.number().int(),
  /** Follow-up poll number (0-based). */
  poll: z.number().int().min(0).default(0),
});
export type RemediateJobData = z.input<typeof RemediateJobData>;

export const REMEDIATE_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** The `remediate` queue under HEAL_QUEUE_PREFIX. */
export function createRemediateQueue(connection: Redis, prefix: string): Queue {
  return new Queue(REMEDIATE_QUEUE, { connection, prefix });
}

/** Deterministic: one job per rerun claim and per follow-up poll, so a retried enqueue adds nothing. */
export function remediateJobId(data: RemediateJobData): string {
  const base = `${data.kind}_${data.incidentId}_${data.at}`;
  return data.kind === 'follow' ? `${base}_${data.poll ?? 0}` : base;
}

/** Enqueues a remediate job (delayed by `delayMs` for follow-ups); a duplicate job id is not added twice. */
export async function enqueueRemediation(queue: Queue, data: RemediateJobData, delayMs = 0): Promise<void> {
  const parsed = RemediateJobData.parse(data);
  await queue.add(REMEDIATE_QUEUE, parsed, {
    ...REMEDIATE_JOB_OPTIONS,
    jobId: remediateJobId(parsed),
    ...(delayMs > 0 ? { delay: delayMs } : {}),
  });
}
