/**
 * Escalation (issue 7 item 6): a proposed fix not approved within HEAL_FIX_APPROVAL_TIMEOUT_MS, or a failure
 * whose signature recurred (src/jobs/recurrence.ts), is said once in the thread with HEAL_ONCALL_GROUP.
 */
import type { Queue } from 'bullmq';
import type { Config } from '../core/config.ts';
import { renderFixTimeout, renderRecurrenceEscalation } from '../report/fix-replies.ts';
import type { RecurrenceView } from '../report/types.ts';
import type { FixStore } from './fix-state.ts';
import type { IncidentStore } from './incidents.ts';
import type { Publisher } from './processor.ts';

/** The delayed job on the `fix` queue that checks whether the proposal was approved in time. */
export const FIX_TIMEOUT_JOB = 'fix-timeout';

export interface EscalationDeps {
  config: Pick<Config, 'HEAL_ONCALL_GROUP' | 'HEAL_FIX_APPROVAL_TIMEOUT_MS'>;
  incidents: IncidentStore;
  fixes: FixStore;
  publisher: Publisher;
}

/** Schedules the approval check once per incident (a deterministic job id; a restarted job adds nothing). */
export async function scheduleFixTimeout(queue: Queue, incidentId: string, delayMs: number): Promise<void> {
  await queue.add(
    FIX_TIMEOUT_JOB,
    { incidentId },
    {
      jobId: `fix-timeout-${incidentId}`,
      delay: delayMs,
      attempts: 3,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  );
}

/**
 * Runs when the approval time is up: if the incident still has an unapproved proposal (not dismissed, no
 * fix under way or done), the thread says so and mentions the on-call group. Returns what it decided.
 */
export async function checkFixTimeout(deps: EscalationDeps, incidentId: string, now = Date.now()) {
  const rec = await deps.incidents.get(incidentId);
  if (!rec?.fixProposal) return 'no_proposal';
  if (rec.dismissed) return 'dismissed';
  if (rec.fix && rec.fix.status !== 'error') return 'approved';
  if (!(await deps.fixes.firstEscalation(incidentId, 'timeout'))) return 'already_escalated';
  const msg = renderFixTimeout(deps.config.HEAL_ONCALL_GROUP, rec.createdAt, now - rec.createdAt);
  await deps.publisher.postMessage(rec.channel, msg, rec.threadTs ?? rec.parentTs);
  return 'escalated';
}

/** Says once in the thread that the failure recurs past the threshold, mentioning the on-call group. */
export async function escalateRecurrence(
  deps: Omit<EscalationDeps, 'incidents'>,
  where: { incidentId: string; channel: string; threadTs: string },
  recurrence: RecurrenceView | undefined,
): Promise<boolean> {
  if (!recurrence?.escalate) return false;
  if (!(await deps.fixes.firstEscalation(where.incidentId, 'recurrence'))) return false;
  const msg = renderRecurrenceEscalation(
    deps.config.HEAL_ONCALL_GROUP,
    recurrence.seen,
    recurrence.windowDays,
  );
  await deps.publisher.postMessage(where.channel, msg, where.threadTs);
  return true;
}
