/**
 * The publish stage of an investigation and its own retry layer (issue 13 item 7). Once the report is
 * checkpointed (`diagnosed`), only publishing is left: the final parent state, the evidence replies not
 * posted yet (`repliesPosted`), the recurrence escalation and the report file. When Slack fails it with a
 * retryable error (5xx, connection errors, rate limits past the pacer's patience), the job is moved to
 * BullMQ's delayed set (DelayedError: no attempt spent, no worker slot held) and resumes from the
 * `diagnosed` checkpoint, with exponential backoff (HEAL_PUBLISH_BACKOFF_MS doubling up to
 * HEAL_PUBLISH_BACKOFF_MAX_MS) for up to HEAL_PUBLISH_RETRY_MS of Slack failing without a single success.
 * The investigation itself is never redone for Slack. The investigate publisher makes no retries of its
 * own (src/jobs/worker.ts), so this is the only retry layer of the Slack hop besides 429 pacing.
 */
import { DelayedError, type Job } from 'bullmq';
import type { Config } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Report } from '../core/report.ts';
import { renderEvidenceReplies } from '../report/blocks.ts';
import type { SlackApiError } from '../report/slack-errors.ts';
import type { RecurrenceView, SlackMessage } from '../report/types.ts';
import { isReportUploader, uploadReportOnce } from '../report/upload.ts';
import { escalateRecurrence } from './escalation.ts';
import { IncidentGoneError, type SlackWait } from './incidents.ts';
import type { ProcessorDeps } from './processor.ts';
import { recordRecurrence } from './recurrence.ts';
import type { IncidentThread } from './thread.ts';

/** How long and how often publishing is retried while Slack fails (from config). */
export interface PublishRetryPolicy {
  /** Give up after Slack failed this long without one success (HEAL_PUBLISH_RETRY_MS). */
  budgetMs: number;
  /** First delay, doubled after each failure (HEAL_PUBLISH_BACKOFF_MS). */
  baseMs: number;
  /** Largest delay (HEAL_PUBLISH_BACKOFF_MAX_MS). */
  maxMs: number;
}

export function publishRetryPolicy(config: Config): PublishRetryPolicy {
  return {
    budgetMs: config.HEAL_PUBLISH_RETRY_MS,
    baseMs: config.HEAL_PUBLISH_BACKOFF_MS,
    maxMs: Math.max(config.HEAL_PUBLISH_BACKOFF_MS, config.HEAL_PUBLISH_BACKOFF_MAX_MS),
  };
}

/**
 * The delay before the next publish attempt after `wait.attempts` failures since `wait.since`, or undefined
 * when the budget is spent. The last attempt is made when the budget ends, not after.
 */
export function nextPublishDelay(
  policy: PublishRetryPolicy,
  wait: Pick<SlackWait, 'since' | 'attempts'>,
  now: number,
): number | undefined {
  const left = wait.since + policy.budgetMs - now;
  if (left <= 0) return undefined;
  const exp = Math.min(30, Math.max(0, wait.attempts - 1));
  return Math.max(1, Math.min(policy.baseMs * 2 ** exp, policy.maxMs, left));
}

/** What one publish attempt got into Slack (a failure after a new post resets the backoff). */
export interface PublishProgress {
  /** Messages newly posted by this attempt (the parent, evidence replies); updates do not count. */
  posted: number;
  /** The parent shows the diagnosis and every evidence reply is posted: only extras are left. */
  threadDone: boolean;
}

/** Records this failure signature (idempotent) and reads how often it recurred; best effort. */
async function recurrenceOf(
  deps: ProcessorDeps,
  thread: IncidentThread,
  report: Report,
  log: Logger,
): Promise<RecurrenceView | undefined> {
  const { config, redis } = deps;
  try {
    const view = await recordRecurrence(redis, config.HEAL_QUEUE_PREFIX, thread.rec.incidentId, report, {
      at: thread.rec.createdAt,
      escalateAfter: config.HEAL_RECUR_ESCALATE,
    });
    if (view) await deps.incidents.setRecurrence(thread.rec.incidentId, view);
    return view;
  } catch (err) {
    if (err instanceof IncidentGoneError) throw err;
    log.warn({ err: errorMessage(err) }, 'recurrence not recorded');
    return undefined;
  }
}

/**
 * Final parent update, then the evidence replies this incident has not posted yet, the recurrence
 * escalation and the report file (each at most once); then the `published` checkpoint.
 */
export async function publishReport(
  deps: ProcessorDeps,
  thread: IncidentThread,
  report: Report,
  progress: PublishProgress,
  log: Logger,
): Promise<void> {
  const { incidentId, channel } = thread.rec;
  const recurrence = await recurrenceOf(deps, thread, report, log);
  const hadParent = Boolean(thread.rec.parentTs);
  const parentTs = await thread.show(
    thread.state('diagnosed', { report, ...(recurrence ? { recurrence } : {}) }),
  );
  if (!hadParent) progress.posted++;
  const threadTs = thread.rec.threadTs ?? parentTs;
  const replies = renderEvidenceReplies(report);
  for (let i = thread.rec.repliesPosted; i < replies.length; i++) {
    await thread.fence();
    await deps.publisher.postMessage(channel, replies[i] as SlackMessage, threadTs);
    progress.posted++;
    await deps.incidents.setRepliesPosted(incidentId, i + 1);
    thread.rec = { ...thread.rec, repliesPosted: i + 1 };
  }
  progress.threadDone = true;
  await thread.fence();
  const esc = deps.escalation;
  if (esc)
    await escalateRecurrence(
      { config: deps.config, fixes: esc.fixes, publisher: deps.publisher },
      { incidentId, channel, threadTs },
      recurrence,
    );
  if (isReportUploader(deps.publisher)) {
    await thread.fence();
    const files = { redis: deps.redis, prefix: deps.config.HEAL_QUEUE_PREFIX, log };
    await uploadReportOnce({ ...files, uploader: deps.publisher }, { incidentId, channel, threadTs }, report);
  }
  await thread.fence();
  await deps.incidents.checkpoint(incidentId, 'published');
}

/**
 * Slack refused a publish with a retryable error. Records the wait on the incident (`slackWait`, which
 * `/heal status` shows) and moves the job to the delayed set, then throws DelayedError so BullMQ leaves it
 * there. Once the budget is spent it returns instead: `published` when only extras were missing (the
 * thread stands without its report file; checkpointed here), else the message to fail the incident with.
 */
export async function deferPublish(
  deps: ProcessorDeps,
  job: Job,
  token: string | undefined,
  err: SlackApiError,
  progress: PublishProgress,
  log: Logger,
): Promise<{ published: true } | { published: false; message: string }> {
  const policy = publishRetryPolicy(deps.config);
  const incidentId = (job.data as { incidentId: string }).incidentId;
  const now = Date.now();
  const prev = (await deps.incidents.get(incidentId))?.slackWait;
  // A failure after Slack answered at least once in this attempt starts a new wait.
  const fresh = !prev || progress.posted > 0;
  const wait = { since: fresh ? now : prev.since, attempts: fresh ? 1 : prev.attempts + 1 };
  const delay = nextPublishDelay(policy, wait, now);
  if (delay === undefined) {
    if (progress.threadDone) {
      log.warn({ attempts: wait.attempts, err: err.message }, 'thread published without its report file');
      await deps.incidents.checkpoint(incidentId, 'published');
      return { published: true };
    }
    const minutes = Math.round((now - wait.since) / 60_000);
    log.error({ attempts: wait.attempts, err: err.message }, 'Slack unreachable: publishing given up');
    const message = `Slack could not be reached for ${minutes} min (${wait.attempts} tries), so this thread was not posted; ask again with /heal`;
    return { published: false, message };
  }
  await deps.incidents.setSlackWait(incidentId, { ...wait, nextAt: now + delay, reason: err.code });
  log.warn(
    { attempts: wait.attempts, delayMs: delay, err: err.message },
    'Slack unreachable: publishing deferred (the report is stored)',
  );
  await job.moveToDelayed(now + delay, token);
  throw new DelayedError(`publishing deferred ${delay} ms: ${err.message}`);
}
