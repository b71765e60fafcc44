import { type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AdapterContext, Collection, PinResult } from '../adapters/types.ts';
import type { Config } from '../core/config.ts';
import { errorMessage, TransientError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Report } from '../core/report.ts';
import { describeTarget } from '../core/target.ts';
import type { Upstream } from '../core/upstream.ts';
import { proposeFix } from '../diagnosis/fix.ts';
import { collectStep, diagnoseStep, pinStep } from '../diagnosis/investigate.ts';
import { secondOpinion } from '../diagnosis/second-opinion.ts';
import { renderEvidenceReplies, renderParent } from '../report/blocks.ts';
import type { Phase, RecurrenceView, SlackMessage, ThreadState } from '../report/types.ts';
import { isReportUploader, uploadReportOnce } from '../report/upload.ts';
import { classify } from './classify.ts';
import { escalateRecurrence } from './escalation.ts';
import { attachFix, type Propose } from './fix-propose.ts';
import type { FixStore } from './fix-state.ts';
import type { IncidentRecord, IncidentStore } from './incidents.ts';
import { type Outcome, recordInvestigation } from './metrics.ts';
import { InvestigateJobData } from './queue.ts';
import { recordRecurrence } from './recurrence.ts';

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
  private readonly progress: string[] = [];

  constructor(
    private readonly deps: ProcessorDeps,
    private readonly data: InvestigateJobData,
    private rec: IncidentRecord,
  ) {
    this.ctx = { config: deps.config, log: deps.log.child({ incidentId: data.incidentId }) };
    this.steps = deps.steps ?? defaultSteps;
  }

  private state(phase: Phase, extra: Partial<ThreadState> = {}): ThreadState {
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

  /** Posts the thread parent once (its ts is persisted at once), or updates it in place. */
  async showParent(state: ThreadState): Promise<string> {
    const msg = renderParent(state);
    const { channel, threadTs } = this.data;
    if (this.rec.parentTs) {
      const done = this.deps.publisher.update(channel, this.rec.parentTs, msg);
      // Progress states are not awaited: queued behind Slack's chat.update limit, the publisher coalesces
      // them (latest wins). The final states (diagnosed, failed) are awaited before any checkpoint.
      if (state.phase === 'diagnosed' || state.phase === 'failed') await done;
      else done.catch((err) => this.ctx.log.warn({ err: errorMessage(err) }, 'progress update not shown'));
      return this.rec.parentTs;
    }
    const ts = await this.deps.publisher.postMessage(channel, msg, threadTs);
    await this.deps.incidents.setParentTs(this.data.incidentId, ts);
    this.rec = { ...this.rec, parentTs: ts };
    await this.storePermalink(ts);
    return ts;
  }

  /** Best effort: a missing permalink only means a duplicate `/heal` gets no direct link. */
  private async storePermalink(ts: string): Promise<void> {
    try {
      const link = await this.deps.publisher.permalink?.(this.data.channel, ts);
      if (link) await this.deps.incidents.setPermalink(this.data.incidentId, link);
    } catch (err) {
      this.ctx.log.warn({ err: errorMessage(err) }, 'no permalink for the thread parent');
    }
  }

  async pin(): Promise<PinResult> {
    if (this.rec.pin) return this.rec.pin;
    const result = await this.steps.pin(this.data.target, this.ctx);
    if (result.status !== 'ok') throw pinFailure(result, describeTarget(this.data.target));
    await this.deps.incidents.checkpoint(this.data.incidentId, 'pinned', { pin: result.data });
    this.rec = { ...this.rec, pin: result.data, checkpoint: 'pinned' };
    this.progress.push(`Pinned ${result.data.pinned.ref}`);
    await this.showParent(this.state('pinned'));
    return result.data;
  }

  async collect(pin: PinResult): Promise<Collection> {
    if (this.rec.collection) return this.rec.collection;
    const collection = await this.steps.collect(pin, this.ctx);
    await this.deps.incidents.checkpoint(this.data.incidentId, 'collected', { collection });
    this.rec = { ...this.rec, collection, checkpoint: 'collected' };
    const gaps = collection.gaps.length ? ` (${collection.gaps.length} gaps)` : '';
    this.progress.push(`Collected ${collection.evidence.length} pieces of evidence${gaps}`);
    await this.showParent(this.state('collected'));
    return collection;
  }

  async diagnose(pin: PinResult, collection: Collection): Promise<Report> {
    if (this.rec.report) return this.rec.report;
    const rules = this.steps.diagnose(this.data.incidentId, pin, collection);
    const report = await this.review(rules);
    const { report: withFix, proposal } = this.steps.propose
      ? await attachFix(report, collection, this.ctx, this.steps.propose)
      : { report, proposal: null };
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
      this.progress.push(text);
      shown = shown.then(() => this.showParent(this.state('collected'))).catch(() => undefined);
    };
    const report = await this.steps.review(rules, this.ctx, { onProgress });
    await shown;
    return report;
  }

  /** Final parent update, then the evidence replies this incident has not posted yet. */
  async publish(report: Report): Promise<void> {
    const recurrence = await this.recurrence(report);
    const parentTs = await this.showParent(
      this.state('diagnosed', { report, ...(recurrence ? { recurrence } : {}) }),
    );
    const threadTs = this.data.threadTs ?? parentTs;
    const replies = renderEvidenceReplies(report);
    for (let i = this.rec.repliesPosted; i < replies.length; i++) {
      await this.deps.publisher.postMessage(this.data.channel, replies[i] as SlackMessage, threadTs);
      await this.deps.incidents.setRepliesPosted(this.data.incidentId, i + 1);
    }
    const esc = this.deps.escalation;
    if (esc)
      await escalateRecurrence(
        { config: this.deps.config, fixes: esc.fixes, publisher: this.deps.publisher },
        { incidentId: this.data.incidentId, channel: this.data.channel, threadTs },
        recurrence,
      );
    if (isReportUploader(this.deps.publisher)) {
      const { incidentId, channel } = this.data;
      const deps = { redis: this.deps.redis, prefix: this.deps.config.HEAL_QUEUE_PREFIX, log: this.ctx.log };
      await uploadReportOnce(
        { ...deps, uploader: this.deps.publisher },
        { incidentId, channel, threadTs },
        report,
      );
    }
    await this.deps.incidents.checkpoint(this.data.incidentId, 'published');
  }

  /** Records this failure's signature (idempotent) and reads how often it recurred; best effort. */
  private async recurrence(report: Report): Promise<RecurrenceView | undefined> {
    const { config, redis } = this.deps;
    try {
      const view = await recordRecurrence(redis, config.HEAL_QUEUE_PREFIX, this.data.incidentId, report, {
        at: this.rec.createdAt,
        escalateAfter: config.HEAL_RECUR_ESCALATE,
      });
      if (view) await this.deps.incidents.setRecurrence(this.data.incidentId, view);
      return view;
    } catch (err) {
      this.ctx.log.warn({ err: errorMessage(err) }, 'recurrence not recorded');
      return undefined;
    }
  }

  /** Stages already checkpointed are read back, not redone; the parent is only updated for new ones. */
  async run(): Promise<Report> {
    if (!this.rec.parentTs) await this.showParent(this.state('queued'));
    const pin = await this.pin();
    const collection = await this.collect(pin);
    const report = await this.diagnose(pin, collection);
    await this.publish(report);
    return report;
  }

  /** Shows the failure in plain words on the thread parent; never throws. */
  async fail(message: string): Promise<void> {
    await this.deps.incidents.checkpoint(this.data.incidentId, 'failed', { error: message });
    try {
      await this.showParent(this.state('failed', { error: message }));
    } catch (err) {
      this.ctx.log.error({ err: errorMessage(err) }, 'could not show the failure in Slack');
    }
  }
}

async function loadIncident(deps: ProcessorDeps, data: InvestigateJobData): Promise<IncidentRecord> {
  const existing = await deps.incidents.get(data.incidentId);
  if (existing) return existing;
  await deps.incidents.claim(data);
  const rec = await deps.incidents.get(data.incidentId);
  if (!rec) throw new Error(`incident ${data.incidentId} vanished right after it was claimed`);
  return rec;
}

function secondsSince(ms: number): number {
  return Math.max(0, (Date.now() - ms) / 1000);
}

/**
 * The `investigate` processor: pin → collect → diagnose → publish with a checkpoint after each
 * stage, so a job restarted after a crash resumes without re-collecting or re-posting.
 */
export function createInvestigateProcessor(deps: ProcessorDeps) {
  const prefix = deps.config.HEAL_QUEUE_PREFIX;
  return async function processInvestigate(job: Job): Promise<string> {
    const parsed = InvestigateJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid investigate job: ${parsed.error.message}`);
    const data = parsed.data;
    const rec = await loadIncident(deps, data);
    if (rec.checkpoint === 'published') return 'published';
    const inv = new Investigation(deps, data, rec);
    try {
      const report = await inv.run();
      const outcome: Outcome = report.rootCause ? 'diagnosed' : 'abstained';
      await recordInvestigation(deps.redis, prefix, outcome, secondsSince(rec.createdAt));
      return outcome;
    } catch (err) {
      const mapped = classify(err);
      const final = mapped instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      deps.log.warn(
        { incidentId: data.incidentId, err: mapped.message, final },
        'investigation attempt failed',
      );
      if (final) {
        await inv.fail(mapped.message);
        await recordInvestigation(deps.redis, prefix, 'failed', secondsSince(rec.createdAt));
      }
      throw mapped;
    }
  };
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
