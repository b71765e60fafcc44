import { UnrecoverableError } from 'bullmq';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { renderParent } from '../report/blocks.ts';
import { SlackApiError } from '../report/slack-errors.ts';
import type { Phase, ThreadState } from '../report/types.ts';
import { IncidentGoneError, type IncidentRecord, type IncidentStore } from './incidents.ts';
import type { Publisher } from './processor.ts';
import type { InvestigateJobData } from './queue.ts';

/**
 * The incident's Slack thread as one run of its investigate job sees it: one parent message, posted once
 * (its ts is stored at once, so a later run updates it instead of posting again) and updated in place.
 * Progress states are best effort: Slack failing while Heal investigates never fails the investigation
 * (its result is what matters; the publish stage posts it with its own retries, src/jobs/publish.ts).
 */
export class IncidentThread {
  readonly progress: string[] = [];
  /** Set after a progress state could not be shown: this run shows no more of them (Slack is down). */
  private progressOff = false;

  constructor(
    private readonly deps: { publisher: Publisher; incidents: IncidentStore },
    private readonly data: InvestigateJobData,
    /** The incident as last read or written by this run. */
    public rec: IncidentRecord,
    private readonly log: Logger,
    /**
     * Awaited before every write and every Slack call: throws {@link JobLockLostError} once this run no
     * longer holds its job (another run took it over after a stall, or Redis lost it), so two runs of one
     * job never both post. No-op outside BullMQ.
     */
    readonly fence: () => Promise<void> = async () => undefined,
  ) {}

  state(phase: Phase, extra: Partial<ThreadState> = {}): ThreadState {
    const { incidentId, target, requestedBy } = this.data;
    return {
      incidentId,
      target: this.rec.pin?.target ?? target,
      phase,
      ...(requestedBy ? { requestedBy } : {}),
      progress: [...this.progress],
      ...extra,
    };
  }

  /** Posts the thread parent once (its ts is persisted at once), or updates it in place; throws on failure. */
  async show(state: ThreadState): Promise<string> {
    const msg = renderParent(state);
    const { channel, threadTs } = this.data;
    await this.fence();
    if (this.rec.parentTs) {
      const done = this.deps.publisher.update(channel, this.rec.parentTs, msg);
      // Progress states are not awaited: queued behind Slack's chat.update limit, the publisher coalesces
      // them (latest wins). The final states (diagnosed, failed) are awaited before any checkpoint.
      if (state.phase === 'diagnosed' || state.phase === 'failed') await done;
      else done.catch((err) => this.log.warn({ err: errorMessage(err) }, 'progress update not shown'));
      return this.rec.parentTs;
    }
    const ts = await this.deps.publisher.postMessage(channel, msg, threadTs);
    await this.deps.incidents.setParentTs(this.data.incidentId, ts);
    this.rec = { ...this.rec, parentTs: ts };
    await this.storePermalink(ts);
    return ts;
  }

  /**
   * A progress state, best effort: a Slack failure is logged and turns progress off for this run (so an
   * outage costs one failed call, not one per stage). Store errors (the record vanished) still throw.
   */
  async showProgress(state: ThreadState): Promise<void> {
    if (this.progressOff) return;
    try {
      await this.show(state);
    } catch (err) {
      if (!isSlackError(err)) throw err;
      this.progressOff = true;
      this.log.warn({ err: errorMessage(err), phase: state.phase }, 'progress not shown (Slack failed)');
    }
  }

  /**
   * The incident's record vanished (Redis lost data): an already posted parent says so, unfenced (the job's
   * lock went with the data) and best effort; nothing is written to Redis.
   */
  async showLost(): Promise<void> {
    if (!this.rec.parentTs) return;
    const error = "Heal lost this investigation's state (its store was reset); ask again with /heal";
    const msg = renderParent(this.state('failed', { error }));
    await this.deps.publisher.update(this.data.channel, this.rec.parentTs, msg).catch(() => undefined);
  }

  /** Best effort: a missing permalink only means a duplicate `/heal` gets no direct link. */
  private async storePermalink(ts: string): Promise<void> {
    let link: string | undefined;
    try {
      link = await this.deps.publisher.permalink?.(this.data.channel, ts);
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'no permalink for the thread parent');
    }
    if (link) await this.deps.incidents.setPermalink(this.data.incidentId, link);
  }
}

/** This run of a job lost its BullMQ lock: another run owns the job now; this one must stop writing. */
export class JobLockLostError extends Error {
  constructor(readonly jobId: string | undefined) {
    super(`job ${jobId} is no longer held by this run (its lock was lost)`);
    this.name = 'JobLockLostError';
  }
}

/**
 * A fence for one run of `job` ({@link IncidentThread.fence}): extends the job's lock by `lockMs` (so a long
 * publish never lets it expire) and throws JobLockLostError when the lock is no longer this run's.
 */
export function jobFence(
  job: { id?: string | undefined; extendLock?: (token: string, ms: number) => Promise<number> },
  token: string | undefined,
  lockMs: number,
): () => Promise<void> {
  const extend = job.extendLock;
  if (!token || typeof extend !== 'function') return async () => undefined;
  return async () => {
    if (Number(await extend.call(job, token, lockMs)) !== 1) throw new JobLockLostError(job.id);
  };
}

/** Whether `err` came from a Slack call (SlackApiError), as opposed to Redis or Heal itself. */
export function isSlackError(err: unknown): err is SlackApiError {
  return err instanceof SlackApiError;
}

/** Redis lost the incident mid-flight: nothing more is written (no partial record) and the job stops. */
export async function stopLost(
  log: Logger,
  thread: IncidentThread | undefined,
  err: IncidentGoneError,
): Promise<UnrecoverableError> {
  log.warn({ incidentId: err.incidentId }, 'incident record gone (Redis lost data?): job stopped');
  await thread?.showLost();
  return new UnrecoverableError(err.message);
}

/**
 * This run lost its job's lock. If the incident's record is gone or was replaced by a new claim (Redis lost
 * data), it stops as for a vanished record; otherwise another run of the job carries on, and this one
 * stops without writing or posting anything.
 */
export async function lockLost(
  deps: { incidents: IncidentStore; log: Logger },
  thread: IncidentThread,
  err: JobLockLostError,
): Promise<Error> {
  const id = thread.rec.incidentId;
  const now = await deps.incidents.get(id).catch(() => null);
  if (!now || now.createdAt !== thread.rec.createdAt)
    return stopLost(deps.log, thread, new IncidentGoneError(id));
  deps.log.warn({ incidentId: id }, 'job lock lost (another run took the job over): this run stops');
  return err;
}
