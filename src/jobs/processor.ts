import { type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AdapterContext, Collection, PinResult } from '../adapters/types.ts';
import type { Config } from '../core/config.ts';
import { errorMessage, publicReason, TransientError } from '../core/errors.ts';
import { internalBases, scrubInternal } from '../core/internal.ts';
import type { Logger } from '../core/logger.ts';
import type { Report } from '../core/report.ts';
import { describeTarget } from '../core/target.ts';
import type { Upstream } from '../core/upstream.ts';
import { proposeFix } from '../diagnosis/fix.ts';
import { collectStep, diagnoseStep, pinStep } from '../diagnosis/investigate.ts';
import { secondOpinion } from '../diagnosis/second-opinion.ts';
import type { SlackMessage } from '../report/types.ts';
import { classify } from './classify.ts';
import { attachFix, type Propose } from './fix-propose.ts';
import type { FixStore } from './fix-state.ts';
import { IncidentGoneError, type IncidentRecord, type IncidentStore } from './incidents.ts';
import { type Outcome, recordInvestigation } from './metrics.ts';
import { deferPublish, type PublishProgress, publishReport } from './publish.ts';
import { InvestigateJobData } from './queue.ts';
import { IncidentThread, isSlackError, JobLockLostError, jobFence, lockLost, stopLost } from './thread.ts';

/** The Slack calls the processor makes (SlackPublisher implements it). */
export interface Publisher {
  postMessage(channel: string, msg: SlackMessage, threadTs?: string): Promise<string>;
  update(channel: string, ts: string, msg: SlackMessage): Promise<unknown>;
  permalink?(channel: string, ts: string): Promise<string | undefined>;
}

/** The three investigation steps (src/diagnosis/investigate.ts); injectable for tests. */
export interface Steps {
  pin(target: InvestigateJobData['target'], ctx: AdapterContext): Promise<Upstream<PinResult>>;
  collect(pin: PinResult, ctx: AdapterContext): Promise<Collection>;
  diagnose(incidentId: string, pin: PinResult, collection: Collection): Report;
  /** Claude's second opinion (a no-op without ANTHROPIC_API_KEY). */
  /** The fix proposal after diagnosis (src/jobs/fix-propose.ts); absent: no fix is proposed. */
  propose?: Propose;
  review?(
    report: Report,
    ctx: AdapterContext,
    opts: { onProgress?: (text: string) => void },
  ): Promise<Report>;
}

export const defaultSteps: Steps = {
  pin: pinStep,
  collect: collectStep,
  diagnose: diagnoseStep,
  review: secondOpinion,
  propose: proposeFix,
};

export interface ProcessorDeps {
  config: Config;
  log: Logger;
  redis: Redis;
  incidents: IncidentStore;
  publisher: Publisher;
  steps?: Steps;
  /** Approval-timeout and recurrence escalation (src/jobs/escalation.ts); absent in unit tests. */
  escalation?: { fixes: FixStore; scheduleFixTimeout(incidentId: string, delayMs: number): Promise<void> };
}

function pinFailure(result: Exclude<Upstream<PinResult>, { status: 'ok' }>, label: string): Error {
  if (result.status === 'no_data') return new UnrecoverableError(`${label} was not found: ${result.message}`);
  if (result.retryable) return new TransientError(`${label} could not be pinned: ${result.message}`);
  return new UnrecoverableError(`${label} could not be pinned: ${result.message}`);
}

/** One run of one investigate job; resumes from the incident's last checkpoint. */
class Investigation {
  private readonly ctx: AdapterContext;
  private readonly steps: Steps;
  readonly thread: IncidentThread;
  /** Set once the report is stored: from then on only publishing is left (and retried on its own). */
  publishing = false;
  /** Slack calls the current publish attempt got through. */
  readonly published: PublishProgress = { posted: 0, threadDone: false };

  constructor(
    private readonly deps: ProcessorDeps,
    private readonly data: InvestigateJobData,
    rec: IncidentRecord,
    fence?: () => Promise<void>,
  ) {
    this.ctx = { config: deps.config, log: deps.log.child({ incidentId: data.incidentId }) };
    this.steps = deps.steps ?? defaultSteps;
    this.thread = new IncidentThread(deps, data, rec, this.ctx.log, fence);
  }

  get log(): Logger {
    return this.ctx.log;
  }

  private get rec(): IncidentRecord {
    return this.thread.rec;
  }

  private set rec(rec: IncidentRecord) {
    this.thread.rec = rec;
  }

  async pin(): Promise<PinResult> {
    if (this.rec.pin) return this.rec.pin;
    const result = await this.steps.pin(this.data.target, this.ctx);
    if (result.status !== 'ok') throw pinFailure(result, describeTarget(this.data.target));
    await this.thread.fence();
    await this.deps.incidents.checkpoint(this.data.incidentId, 'pinned', { pin: result.data });
    this.rec = { ...this.rec, pin: result.data, checkpoint: 'pinned' };
    this.thread.progress.push(`Pinned ${result.data.pinned.ref}`);
    await this.thread.showProgress(this.thread.state('pinned'));
    return result.data;
  }

  async collect(pin: PinResult): Promise<Collection> {
    if (this.rec.collection) return this.rec.collection;
    const collection = await this.steps.collect(pin, this.ctx);
    await this.thread.fence();
    await this.deps.incidents.checkpoint(this.data.incidentId, 'collected', { collection });
    this.rec = { ...this.rec, collection, checkpoint: 'collected' };
    const gaps = collection.gaps.length ? ` (${collection.gaps.length} gaps)` : '';
    this.thread.progress.push(`Collected ${collection.evidence.length} pieces of evidence${gaps}`);
    await this.thread.showProgress(this.thread.state('collected'));
    return collection;
  }

  async diagnose(pin: PinResult, collection: Collection): Promise<Report> {
    if (this.rec.report) return this.rec.report;
    const rules = this.steps.diagnose(this.data.incidentId, pin, collection);
    // Slack shows this report: gaps name the platform, not internal base URLs or the worker's paths.
    const report = forSlack(await this.review(rules), this.deps.config);
    const { report: withFix, proposal } = this.steps.propose
      ? await attachFix(report, collection, this.ctx, this.steps.propose)
      : { report, proposal: null };
    await this.thread.fence();
    await this.deps.incidents.checkpoint(this.data.incidentId, 'diagnosed', {
      report: withFix,
      ...(proposal ? { fixProposal: proposal } : {}),
    });
    if (proposal)
      await this.deps.escalation
        ?.scheduleFixTimeout(this.data.incidentId, this.deps.config.HEAL_FIX_APPROVAL_TIMEOUT_MS)
        .catch((err) => this.ctx.log.warn({ err: errorMessage(err) }, 'fix approval timeout not scheduled'));
    this.rec = { ...this.rec, report: withFix, checkpoint: 'diagnosed' };
    return withFix;
  }

  /** Claude's second opinion, its progress streamed to the thread parent (in order, best effort). */
  private async review(rules: Report): Promise<Report> {
    if (!this.steps.review) return rules;
    let shown: Promise<unknown> = Promise.resolve();
    const onProgress = (text: string) => {
      this.thread.progress.push(text);
      shown = shown
        .then(() => this.thread.showProgress(this.thread.state('collected')))
        .catch(() => undefined);
    };
    const report = await this.steps.review(rules, this.ctx, { onProgress });
    await shown;
    return report;
  }

  /** Stages already checkpointed are read back, not redone; Slack failing never fails these stages. */
  async run(): Promise<Report> {
    // A job resuming to publish (the report is stored) goes straight to it: no progress state first.
    if (!this.rec.parentTs && !this.rec.report) await this.thread.showProgress(this.thread.state('queued'));
    const pin = await this.pin();
    const collection = await this.collect(pin);
    const report = await this.diagnose(pin, collection);
    this.publishing = true;
    await publishReport(this.deps, this.thread, report, this.published, this.ctx.log);
    return report;
  }

  /** Shows the failure in plain words on the thread parent; never throws. */
  async fail(message: string): Promise<void> {
    try {
      await this.thread.fence();
      const shown = scrubInternal(message, internalBases(this.deps.config));
      await this.deps.incidents.checkpoint(this.data.incidentId, 'failed', { error: shown });
      await this.thread.show(this.thread.state('failed', { error: shown }));
    } catch (err) {
      this.ctx.log.error({ err: errorMessage(err) }, 'could not record or show the failure');
    }
  }
}

/** The report as Slack shows it: gap texts (and gap evidence) without internal base URLs or absolute paths. */
function forSlack(report: Report, config: ProcessorDeps['config']): Report {
  const bases = internalBases(config);
  const scrub = (t: string) => scrubInternal(t, bases);
  return {
    ...report,
    gaps: report.gaps.map(scrub),
    evidence: report.evidence.map((e) =>
      e.source.endsWith('.gap') ? { ...e, excerpt: scrub(e.excerpt) } : e,
    ),
  };
}

/**
 * The incident's record. A first run claims it when missing (tests and the CLI enqueue directly); a job
 * that ran before (a retry, a restart after a stall or a delay) whose record is gone stops.
 */
async function loadIncident(
  deps: ProcessorDeps,
  job: Job,
  data: InvestigateJobData,
): Promise<IncidentRecord> {
  const existing = await deps.incidents.get(data.incidentId);
  if (existing) return existing;
  if (job.attemptsMade > 0 || (job.attemptsStarted ?? 0) > 1) throw new IncidentGoneError(data.incidentId);
  await deps.incidents.claim(data);
  const rec = await deps.incidents.get(data.incidentId);
  if (!rec) throw new IncidentGoneError(data.incidentId);
  return rec;
}

function outcomeOf(report: Report | undefined): Outcome {
  return report?.rootCause ? 'diagnosed' : 'abstained';
}

function secondsSince(ms: number): number {
  return Math.max(0, (Date.now() - ms) / 1000);
}

/**
 * The `investigate` processor: pin → collect → diagnose → publish with a checkpoint after each
 * stage, so a job restarted after a crash resumes without re-collecting or re-posting. Slack failing the
 * publish stage moves the job to the delayed set (src/jobs/publish.ts) instead of spending an attempt.
 */
export function createInvestigateProcessor(deps: ProcessorDeps) {
  const prefix = deps.config.HEAL_QUEUE_PREFIX;
  return async function processInvestigate(job: Job, token?: string): Promise<string> {
    const parsed = InvestigateJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid investigate job: ${parsed.error.message}`);
    const data = parsed.data;
    let inv: Investigation | undefined;
    try {
      const rec = await loadIncident(deps, job, data);
      if (rec.checkpoint === 'published') return 'published';
      inv = new Investigation(deps, data, rec, jobFence(job, token, deps.config.HEAL_JOB_LOCK_MS));
      const outcome = outcomeOf(await inv.run());
      await recordInvestigation(deps.redis, prefix, outcome, secondsSince(rec.createdAt));
      return outcome;
    } catch (err) {
      if (err instanceof IncidentGoneError) throw await stopLost(deps.log, inv?.thread, err);
      if (!inv) throw err;
      if (err instanceof JobLockLostError) throw await lockLost(deps, inv.thread, err);
      return afterFailure(deps, job, token, inv, err);
    }
  };
}

/**
 * A run failed. Slack failing the publish stage defers it (DelayedError) within the publish budget; else the
 * failure is retried by BullMQ (transient) or final: shown in the thread, the incident marked failed.
 * Resolves only when the thread was published after all (its report file left out); otherwise throws.
 */
async function afterFailure(
  deps: ProcessorDeps,
  job: Job,
  token: string | undefined,
  inv: Investigation,
  err: unknown,
): Promise<string> {
  const prefix = deps.config.HEAL_QUEUE_PREFIX;
  const rec = inv.thread.rec;
  let mapped = classify(err);
  if (inv.publishing && isSlackError(err) && err.retryable) {
    const spent = await deferPublish(deps, job, token, err, inv.published, inv.log).catch(async (e) => {
      throw e instanceof IncidentGoneError ? await stopLost(deps.log, inv.thread, e) : e;
    });
    if (spent.published) {
      const outcome = outcomeOf(rec.report);
      await recordInvestigation(deps.redis, prefix, outcome, secondsSince(rec.createdAt));
      return outcome;
    }
    mapped = new UnrecoverableError(spent.message);
  }
  const final = mapped instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  deps.log.warn({ incidentId: rec.incidentId, err: mapped.message, final }, 'investigation attempt failed');
  if (final) {
    await inv.fail(publicReason(mapped));
    await recordInvestigation(deps.redis, prefix, 'failed', secondsSince(rec.createdAt));
  }
  throw mapped;
}

/**
 * A job BullMQ failed for stalling too often (its workers died or froze mid-job more than maxStalledCount
 * times) never reaches the processor again: say so in its thread and mark it failed, so a new `/heal`
 * claims it afresh instead of the incident hanging at its last checkpoint.
 */
export async function failStalledInvestigation(deps: ProcessorDeps, job: Job, reason: string): Promise<void> {
  const parsed = InvestigateJobData.safeParse(job.data);
  if (!parsed.success) return;
  const rec = await deps.incidents.get(parsed.data.incidentId);
  if (!rec || rec.checkpoint === 'published' || rec.checkpoint === 'failed') return;
  const message = `the workers running it stopped mid-investigation too many times (${reason}); ask again with /heal`;
  await new Investigation(deps, parsed.data, rec).fail(message);
}
