/**
 * The worker side of an approved fix: runs the `fix` job (src/jobs/fix.ts), posts the pull request or the
 * failure ("nothing was pushed") in the thread, and re-renders the parent with who approved what and when.
 * The same queue carries the delayed approval-timeout check (src/jobs/escalation.ts).
 */
import { type Job, Queue, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { renderParent } from '../report/blocks.ts';
import { renderFixFailed, renderFixOpened } from '../report/fix-replies.ts';
import { AuditLog } from './audit.ts';
import { classify } from './classify.ts';
import { checkFixTimeout, FIX_TIMEOUT_JOB } from './escalation.ts';
import { enqueueFix, FIX_QUEUE, FixJobData, type FixJobResult, fixJobId, runFix } from './fix.ts';
import { FixStore } from './fix-state.ts';
import type { IncidentStore } from './incidents.ts';
import type { Publisher } from './processor.ts';
import { threadStateOf } from './views.ts';

export interface FixWorkerDeps {
  config: Config;
  log: Logger;
  incidents: IncidentStore;
  fixes: FixStore;
  publisher: Publisher;
  audit: AuditLog;
  /** Runs the git + GitHub part (default: runFix). */
  run?: typeof runFix;
}

/** The `fix` queue on a connection (web enqueues approved fixes, the worker schedules timeouts). */
export function createFixQueue(connection: Redis, prefix: string): Queue {
  return new Queue(FIX_QUEUE, { connection, prefix });
}

/**
 * Enqueues an approved fix. A job that failed earlier under the same id (same change) is removed first, so a
 * new approval after a failure runs again instead of being swallowed by BullMQ's job-id dedup.
 */
export async function enqueueApprovedFix(queue: Queue, data: FixJobData): Promise<string> {
  const old = await queue.getJob(fixJobId(data.proposal));
  if (old && (await old.isFailed())) await old.remove();
  return enqueueFix(queue, data);
}

async function refreshParent(deps: FixWorkerDeps, incidentId: string): Promise<void> {
  const rec = await deps.incidents.get(incidentId);
  if (!rec?.parentTs) return;
  const state = threadStateOf(rec, await deps.incidents.feedback(incidentId));
  if (state) await deps.publisher.update(rec.channel, rec.parentTs, renderParent(state));
}

async function reply(deps: FixWorkerDeps, incidentId: string, msg: Parameters<Publisher['postMessage']>[1]) {
  const rec = await deps.incidents.get(incidentId);
  if (!rec) return;
  await deps.publisher.postMessage(rec.channel, msg, rec.threadTs ?? rec.parentTs);
}

async function opened(deps: FixWorkerDeps, data: FixJobData, res: FixJobResult, at: number): Promise<void> {
  const p = data.proposal;
  const url = res.pullRequest.url;
  await deps.fixes.set(p.incidentId, { by: data.approvedBy, at, status: 'opened', branch: res.branch, url });
  await reply(
    deps,
    p.incidentId,
    renderFixOpened({ ...res, baseSha: p.baseSha, repo: p.repo }, data.approvedBy),
  );
  await refreshParent(deps, p.incidentId);
  const detail = `${res.branch} → ${url}${res.reused ? ' (branch already pushed)' : ''}`;
  await deps.audit.record({
    who: data.approvedBy,
    what: 'fix.open',
    incident: p.incidentId,
    result: 'done',
    detail,
  });
}

async function failed(deps: FixWorkerDeps, data: FixJobData, message: string, at: number): Promise<void> {
  const id = data.proposal.incidentId;
  await deps.fixes.set(id, { by: data.approvedBy, at, status: 'error', summary: message });
  await reply(deps, id, renderFixFailed(message, data.approvedBy));
  await refreshParent(deps, id);
  await deps.audit.record({
    who: data.approvedBy,
    what: 'fix.open',
    incident: id,
    result: 'failed',
    detail: message,
  });
}

/** One attempt of a fix job; the thread hears about it on success and on the final failure only. */
async function processFix(deps: FixWorkerDeps, job: Job): Promise<string> {
  const parsed = FixJobData.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid fix job: ${parsed.error.message}`);
  const data = parsed.data;
  const rec = await deps.incidents.get(data.proposal.incidentId);
  const at = rec?.fix?.at ?? Date.now();
  const log = deps.log.child({ jobId: job.id, incidentId: data.proposal.incidentId });
  try {
    const res = await (deps.run ?? runFix)(data, { config: deps.config, log });
    await opened(deps, data, res, at);
    return res.pullRequest.url;
  } catch (err) {
    const mapped = classify(err);
    const final = mapped instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    log.warn({ err: mapped.message, final }, 'fix attempt failed');
    if (final)
      await failed(deps, data, mapped.message, at).catch((e) =>
        log.error({ err: errorMessage(e) }, 'fix failure not shown'),
      );
    throw mapped;
  }
}

/** The `fix` queue's processor: approved fixes and approval-timeout checks. */
export function createFixWorkerProcessor(deps: FixWorkerDeps) {
  return async (job: Job): Promise<string> => {
    if (job.name === FIX_TIMEOUT_JOB) {
      const incidentId = String((job.data as { incidentId?: unknown }).incidentId ?? '');
      return checkFixTimeout({ ...deps }, incidentId);
    }
    return processFix(deps, job);
  };
}

/** Starts the `fix` worker; the returned queue is the one the investigate processor schedules timeouts on. */
export async function startFixWorker(
  base: Omit<FixWorkerDeps, 'audit' | 'fixes'> & { redis: Redis },
  options: Omit<WorkerOptions, 'connection'>,
): Promise<{ queue: Queue; fixes: FixStore; close(): Promise<void> }> {
  const { redis, ...rest } = base;
  const prefix = base.config.HEAL_QUEUE_PREFIX;
  const queue = createFixQueue(redis, prefix);
  const fixes = new FixStore(redis, base.incidents);
  const processor = createFixWorkerProcessor({ ...rest, fixes, audit: new AuditLog(redis, prefix) });
  const worker = new Worker(FIX_QUEUE, processor, { ...options, connection: redis, prefix });
  worker.on('failed', (job, err) => base.log.warn({ jobId: job?.id, err: err.message }, 'fix job failed'));
  worker.on('completed', (job, result) => base.log.info({ jobId: job.id, result }, 'fix job completed'));
  worker.on('error', (err) => base.log.error({ err: errorMessage(err) }, 'fix worker error'));
  await worker.waitUntilReady();
  return {
    queue,
    fixes,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
