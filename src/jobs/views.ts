import type { IncidentSummary, RerunView, ThreadState } from '../report/types.ts';
import type { Feedback, IncidentRecord, IncidentStore, RerunState } from './incidents.ts';

/** The stored rerun as the thread shows it (`executing` reads as running: the clear may have been sent). */
export function rerunView(r: RerunState): RerunView {
  const status = r.status === 'executing' ? 'running' : r.status;
  const summary = r.summary ?? r.started?.summary ?? r.plan?.summary;
  return { by: r.by, at: r.at, status, ...(summary ? { summary } : {}) };
}

function actionsOf(rec: IncidentRecord, feedback?: Feedback): ThreadState['actions'] {
  return {
    ...(rec.rerun ? { rerun: rerunView(rec.rerun) } : {}),
    ...(rec.fix ? { fix: rec.fix } : {}),
    ...(rec.dismissed ? { dismissed: rec.dismissed } : {}),
    ...(feedback && (feedback.up || feedback.down) ? { feedback } : {}),
  };
}

/**
 * The thread parent's state from the stored incident, for re-rendering it after an action. Undefined
 * until the report is stored (the buttons only exist from then on).
 */
export function threadStateOf(rec: IncidentRecord, feedback?: Feedback): ThreadState | undefined {
  if (!rec.report) return undefined;
  return {
    incidentId: rec.incidentId,
    target: rec.pin?.target ?? rec.target,
    phase: 'diagnosed',
    ...(rec.requestedBy ? { requestedBy: rec.requestedBy } : {}),
    report: rec.report,
    ...(rec.recurrence ? { recurrence: rec.recurrence } : {}),
    actions: actionsOf(rec, feedback),
  };
}

/** One incident as the status / history / App Home lists show it. */
export function summaryOf(rec: IncidentRecord): IncidentSummary {
  const rc = rec.report?.rootCause;
  return {
    incidentId: rec.incidentId,
    target: rec.pin?.target ?? rec.target,
    createdAt: rec.createdAt,
    checkpoint: rec.checkpoint,
    ...(rc
      ? {
          rootCause: {
            category: rc.category,
            confidence: rc.confidence,
            culprit: `${rc.culprit.kind} ${rc.culprit.id}`,
          },
        }
      : {}),
    ...(rec.report && !rc ? { abstained: true } : {}),
    ...(rec.permalink ? { permalink: rec.permalink } : {}),
    ...(rec.slackWait && rec.checkpoint === 'diagnosed' ? { waitingForSlack: rec.slackWait } : {}),
    actions: actionsOf(rec),
  };
}

/** A list of incidents, and how many listed ids have a stored record that does not parse. */
export interface IncidentList {
  incidents: IncidentSummary[];
  /** Records that could not be read (logged by the store); they stay listed until replaced or expired. */
  unreadable: number;
}

/**
 * Incidents newest first, counting those whose stored record does not parse instead of dropping them
 * silently; ids whose incident expired are dropped from the open list on the way.
 */
export async function listIncidentsCounted(
  store: IncidentStore,
  which: 'open' | 'all' | { name: string },
  limit = 50,
): Promise<IncidentList> {
  const ids = await store.ids(which, limit);
  const reads = await Promise.all(ids.map((id) => store.read(id)));
  const out: IncidentList = { incidents: [], unreadable: 0 };
  for (const [i, read] of reads.entries()) {
    if (read.status === 'ok') out.incidents.push(summaryOf(read.record));
    else if (read.status === 'unreadable') out.unreadable++;
    else if (which === 'open') await store.close(ids[i] as string);
  }
  return out;
}

/** Incidents newest first (see {@link listIncidentsCounted}), without the count of unreadable records. */
export async function listIncidents(
  store: IncidentStore,
  which: 'open' | 'all' | { name: string },
  limit = 50,
): Promise<IncidentSummary[]> {
  return (await listIncidentsCounted(store, which, limit)).incidents;
}
