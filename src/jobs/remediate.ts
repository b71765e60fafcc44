import { type Job, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { getAdapter } from '../adapters/registry.ts';
import type { AdapterContext, PinResult, RerunCapability } from '../adapters/types.ts';
import type { Config } from '../core/config.ts';
import { errorMessage, TransientError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Platform } from '../core/target.ts';
import type { Upstream } from '../core/upstream.ts';
import {
  renderDryRun,
  renderParent,
  renderRerunError,
  renderRerunOutcome,
  renderRerunStarted,
} from '../report/blocks.ts';
import type { SlackMessage } from '../report/types.ts';
import { AuditLog } from './audit.ts';
import type { IncidentRecord, IncidentStore, RerunState } from './incidents.ts';
import type { Publisher } from './processor.ts';
import { createRemediateQueue, enqueueRemediation, REMEDIATE_QUEUE, RemediateJobData } from './queue.ts';
import { threadStateOf } from './views.ts';

/** Delays (ms) between follow-up polls of a rerun's new try: about 70 minutes in all, then Heal stops. */
export const FOLLOW_SCHEDULE_MS = [
  5_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 600_000, 600_000, 600_000, 600_000, 600_000,
];

/** Rerun capabilities by platform: the adapter's own, else the ones shipped beside the adapters. */
export function rerunCapability(platform: Platform): RerunCapability | undefined {
  return getAdapter(platform)?.rerun;
}

export interface RemediateDeps {
  config: Config;
  log: Logger;
  incidents: IncidentStore;
  publisher: Publisher;
  audit: AuditLog;
  /** Schedules the next follow-up poll (a delayed job on the remediate queue). */
  schedule(data: RemediateJobData, delayMs: number): Promise<void>;
  capability?: (platform: Platform) => RerunCapability | undefined;
  followScheduleMs?: number[];
}

type Parsed = ReturnType<typeof RemediateJobData.parse>;

/** One remediate job against one stored incident. */
class Remediation {
  private readonly ctx: AdapterContext;

  constructor(
    private readonly deps: RemediateDeps,
    private readonly data: Parsed,
    private rec: IncidentRecord & { pin: PinResult },
    private readonly cap: RerunCapability,
  ) {
    this.ctx = { config: deps.config, log: deps.log.child({ incidentId: data.incidentId, job: data.kind }) };
  }

  private get rerun(): RerunState {
    return this.rec.rerun as RerunState;
  }

  private async save(patch: Partial<RerunState>): Promise<void> {
    const next = { ...this.rerun, ...patch };
    await this.deps.incidents.setRerun(this.data.incidentId, next);
    this.rec = { ...this.rec, rerun: next };
  }

  private async reply(msg: SlackMessage): Promise<void> {
    const threadTs = this.rec.threadTs ?? this.rec.parentTs;
    await this.deps.publisher.postMessage(this.rec.channel, msg, threadTs);
  }

  /** Re-renders the thread parent: the buttons give way to who did what and when. */
  private async refreshParent(): Promise<void> {
    if (!this.rec.parentTs) return;
    const state = threadStateOf(this.rec, await this.deps.incidents.feedback(this.data.incidentId));
    if (state) await this.deps.publisher.update(this.rec.channel, this.rec.parentTs, renderParent(state));
  }

  private async audit(what: string, result: string, detail?: string): Promise<void> {
    await this.deps.audit.record({
      who: this.data.user,
      what,
      incident: this.data.incidentId,
      result,
      ...(detail ? { detail } : {}),
    });
  }

  /** An upstream failure: retried while attempts remain (retryable), else shown in the thread. */
  private async failed(step: string, r: Exclude<Upstream<unknown>, { status: 'ok' }>, final: boolean) {
    if (r.status === 'error' && r.retryable && !final) throw new TransientError(r.message);
    await this.save({ status: 'error', summary: r.message });
    await this.reply(renderRerunError(r.message, false));
    await this.refreshParent();
    await this.audit(step, 'failed', r.message);
    return 'error';
  }

  /** Dry run (shown in the thread), then the one write; a restarted job resumes after the last stored step. */
  async runRerun(final: boolean): Promise<string> {
    if (this.rerun.status === 'requested') {
      const plan = await this.cap.preview(this.rec.pin, this.ctx);
      if (plan.status !== 'ok') return this.failed('rerun.dry_run', plan, final);
      await this.reply(renderDryRun(plan.data.items, plan.data.summary));
      await this.save({ status: 'previewed', plan: plan.data });
      await this.refreshParent();
      await this.audit('rerun.dry_run', 'done', plan.data.summary);
    }
    if (this.rerun.status === 'previewed') {
      await this.save({ status: 'executing' });
      const started = await this.cap.execute(this.rec.pin, this.ctx);
      if (started.status !== 'ok') return this.failed('rerun.execute', started, false);
      await this.save({ status: 'running', started: started.data, summary: started.data.summary });
      await this.reply(renderRerunStarted(this.rerun.by, started.data.summary));
      await this.refreshParent();
      await this.audit('rerun.execute', 'done', started.data.summary);
    } else if (this.rerun.status === 'executing') {
      // The write may have been sent before a crash: never send it twice; follow whatever happened.
      await this.save({ status: 'running', summary: 'the rerun was sent before a worker restart' });
      await this.refreshParent();
    } else if (this.rerun.status !== 'running') return this.rerun.status;
    await this.scheduleFollow(0);
    return 'running';
  }

  private async scheduleFollow(poll: number): Promise<void> {
    const schedule = this.deps.followScheduleMs ?? FOLLOW_SCHEDULE_MS;
    const delay = schedule[poll];
    if (delay === undefined) return;
    await this.deps.schedule({ ...this.data, kind: 'follow', poll }, delay);
  }

  /** One poll of the new try: post the outcome once it ends, else schedule the next poll (bounded). */
  async runFollow(): Promise<string> {
    if (this.rerun.status !== 'running') return 'not_running';
    const started = this.rerun.started ?? { items: [], summary: '', handle: {} };
    const progress = await this.cap.follow(this.rec.pin, started, this.ctx);
    const polls = this.data.poll + 1;
    if (progress.status === 'ok' && progress.data.state !== 'running') {
      const { state, summary } = progress.data;
      await this.save({ status: state, summary, polls });
      await this.reply(renderRerunOutcome(state, summary));
      if (state === 'succeeded') await this.deps.incidents.close(this.data.incidentId);
      await this.refreshParent();
      await this.audit('rerun.outcome', state, summary);
      return state;
    }
    const last = progress.status === 'ok' ? progress.data.summary : progress.message;
    const schedule = this.deps.followScheduleMs ?? FOLLOW_SCHEDULE_MS;
    await this.save({ polls });
    if (polls < schedule.length) {
      await this.scheduleFollow(polls);
      return 'running';
    }
    const minutes = Math.round(schedule.reduce((a, b) => a + b, 0) / 60_000);
    await this.reply(renderRerunOutcome('running', `no outcome after ${minutes} min: ${last}`));
    await this.audit('rerun.outcome', 'unknown', last);
    return 'gave_up';
  }
}

async function load(deps: RemediateDeps, data: Parsed) {
  const rec = await deps.incidents.get(data.incidentId);
  if (!rec) throw new UnrecoverableError(`incident ${data.incidentId} not found`);
  return rec;
}

/** Evidence first (DESIGN.md §6.1): the report and pin must be stored before anything is rerun. */
function ready(rec: IncidentRecord): rec is IncidentRecord & { pin: PinResult } {
  return Boolean(rec.pin && rec.report && (rec.checkpoint === 'diagnosed' || rec.checkpoint === 'published'));
}

/**
 * The `remediate` processor: `rerun` jobs (dry run, then the write, then the first follow-up) and `follow`
 * jobs (one bounded poll of the new try). Every step is stored on the incident before the next one, and a job
 * whose rerun claim was superseded does nothing.
 */
export function createRemediateProcessor(deps: RemediateDeps) {
  return async function processRemediate(job: Job): Promise<string> {
    const parsed = RemediateJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid remediate job: ${parsed.error.message}`);
    const data = parsed.data;
    const rec = await load(deps, data);
    if (!rec.rerun || rec.rerun.at !== data.at) return 'stale';
    if (!ready(rec)) {
      await deps.incidents.setRerun(data.incidentId, {
        ...rec.rerun,
        status: 'error',
        summary: 'evidence not stored yet',
      });
      await deps.audit.record({
        who: data.user,
        what: 'rerun',
        incident: data.incidentId,
        result: 'not_ready',
      });
      return 'not_ready';
    }
    const target = rec.pin.target;
    const cap = (deps.capability ?? rerunCapability)(target.platform);
    const supported = cap?.supports(target);
    if (!cap || !supported?.ok) {
      const why = supported && !supported.ok ? supported.why : `no rerun path for ${target.platform}`;
      await deps.incidents.setRerun(data.incidentId, { ...rec.rerun, status: 'error', summary: why });
      await deps.audit.record({
        who: data.user,
        what: 'rerun',
        incident: data.incidentId,
        result: 'no_rerun_path',
      });
      return 'no_rerun_path';
    }
    const r = new Remediation(deps, data, rec, cap);
    try {
      if (data.kind === 'follow') return await r.runFollow();
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      return await r.runRerun(final);
    } catch (err) {
      deps.log.warn({ incidentId: data.incidentId, err: errorMessage(err) }, 'remediate attempt failed');
      throw err;
    }
  };
}

/** A running `remediate` worker and the queue its follow-ups are scheduled on. */
export interface RemediateWorker {
  close(): Promise<void>;
}

/**
 * Starts the `remediate` worker beside the `investigate` one (one processor per queue), sharing the worker's
 * Redis connection and publisher. `options` are the BullMQ worker options of worker.ts.
 */
export async function startRemediateWorker(
  base: Omit<RemediateDeps, 'audit' | 'schedule'> & { redis: Redis },
  options: WorkerOptions | Omit<WorkerOptions, 'connection'>,
): Promise<RemediateWorker> {
  const { redis, ...rest } = base;
  const prefix = base.config.HEAL_QUEUE_PREFIX;
  const queue = createRemediateQueue(redis, prefix);
  const processor = createRemediateProcessor({
    ...rest,
    audit: new AuditLog(redis, prefix),
    schedule: (data, delayMs) => enqueueRemediation(queue, data, delayMs),
  });
  const worker = new Worker(REMEDIATE_QUEUE, processor, { ...options, connection: redis, prefix });
  worker.on('failed', (job, err) =>
    base.log.warn(
      { jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message },
      'remediate job failed',
    ),
  );
  worker.on('completed', (job, result) =>
    base.log.info({ jobId: job.id, result }, 'remediate job completed'),
  );
  worker.on('error', (err) => base.log.error({ err: errorMessage(err) }, 'remediate worker error'));
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
