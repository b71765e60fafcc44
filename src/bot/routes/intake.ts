import type { Queue } from 'bullmq';
import { errorMessage } from '../../core/errors.ts';
import {
  type AlertGroups,
  type IntakeInput,
  type IntakeResult,
  scheduleGroupSummary,
} from '../../jobs/grouping.ts';
import type { BotDeps } from '../deps.ts';

/** What every intake path (alert message, webhook, `/heal`) shares: the groups and the counter job. */
export interface Intake {
  groups: AlertGroups;
  /** Schedules the group's counter-message update (debounced by job id). */
  scheduleSummary(groupId: string): Promise<void>;
}

/** The intake of the web process: groups in Redis, counter updates on the `intake` queue. */
export function createIntake(groups: AlertGroups, queue: Queue, delayMs: number): Intake {
  return { groups, scheduleSummary: (gid) => scheduleGroupSummary(queue, gid, delayMs) };
}

/**
 * Reports one failure: the first report of a group starts its investigation (enqueued here), later ones
 * join it (the thread's counter message is updated), and alerts for a just-resolved incident are dropped.
 */
export async function reportFailure(
  deps: BotDeps,
  intake: Intake,
  input: IntakeInput,
): Promise<IntakeResult> {
  const res = await intake.groups.intake(input);
  if (input.source === 'alert') deps.metrics.alert(res.kind);
  const log = { incidentId: res.incidentId, groupId: res.groupId, via: input.via, count: res.count };
  if (res.kind === 'suppressed') {
    deps.log.info({ ...log, resolvedAt: res.resolvedAt }, 'alert suppressed: its incident was just resolved');
    return res;
  }
  if (res.count > 1)
    await intake
      .scheduleSummary(res.groupId)
      .catch((err) => deps.log.warn({ ...log, err: errorMessage(err) }, 'group counter not scheduled'));
  if (res.kind === 'joined') {
    deps.log.info(log, 'report joins an existing incident');
    return res;
  }
  const data = {
    incidentId: res.incidentId,
    target: res.target,
    channel: input.channel,
    source: input.source,
    ...(input.threadTs ? { threadTs: input.threadTs } : {}),
    ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
  };
  try {
    await deps.enqueue(data);
    deps.log.info(log, 'investigation queued');
  } catch (err) {
    await deps.incidents.checkpoint(res.incidentId, 'failed', {
      error: `could not be queued: ${errorMessage(err)}`,
    });
    throw err;
  }
  return res;
}
