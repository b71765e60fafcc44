import type { Category } from '../../../core/taxonomy.ts';
import type { Finding } from '../../types.ts';
import { CATEGORY_OF, type TryVerdict } from './signals.ts';

type Ids = (keys: Array<string | undefined>) => string[];

const CONSEQUENCE_WHY: Partial<Record<Category, string>> = {
  'airflow.zombie_task':
    'the SIGTERM is Airflow terminating the try after its state changed, not a lost heartbeat or a worker restart',
  'airflow.oom_killed':
    'the SIGKILL is the escalation after SIGTERM when the process did not stop in time, not the OS reclaiming memory',
};

const clip = (t: string) => t.replace(/^\[[^\]]*\]\s*/, '').slice(0, 240);

/**
 * The latest try ended because its state was changed from outside the task (a user or the API marking
 * it, a clear, a DAG run timeout, the scheduler failing it after missed heartbeats). The taxonomy id for
 * that class (`airflow.external_state_change`) is not in core/taxonomy.ts yet, so no category is
 * confirmed: the signals it explains are dismissed with the line that explains them, and the rules
 * abstain with a note (externalNote) saying what would decide.
 */
export function externalFindings(task: string, latest: TryVerdict, ids: Ids): Finding[] {
  const ext = latest.external;
  if (!ext) return [];
  const evidence = ids([`log:${task}:${latest.tryNumber}`]);
  const seen = new Set<Category>();
  const out: Finding[] = [];
  for (const x of latest.signals) {
    const c = CATEGORY_OF[x.sig];
    const why = CONSEQUENCE_WHY[c];
    if (!why || seen.has(c) || x.n < ext.n) continue;
    seen.add(c);
    out.push({
      category: c,
      title: `${task}: ${c.split('.')[1]?.replace(/_/g, ' ')} (after an external state change)`,
      likelihood: 10,
      status: 'dismissed',
      evidenceFor: [],
      evidenceAgainst: evidence,
      reasoning: `"${clip(x.text)}" follows "${clip(ext.text)}" (line ${ext.n}): ${why}.`,
      culprit: { kind: 'task', id: task },
      decisive: false,
      summary: `${task} was terminated after its state was changed from outside.`,
    });
  }
  return out;
}

/** The note explaining an abstention on an external state change, and what would decide it. */
export function externalNote(task: string, latest: TryVerdict): string | undefined {
  if (!latest.external) return undefined;
  return (
    `The latest try (${latest.tryNumber}) of ${task} was terminated because its state was changed from outside the task ("${clip(latest.external.text)}"): ` +
    'a user or the API marking it, a clear, a DAG run timeout, or the scheduler failing it after missed heartbeats. ' +
    "The DAG run's audit log (event log) and the scheduler log would say who or what changed it; it is not the task's code, a zombie or OOM. " +
    'No root cause is named: the taxonomy id for this class (airflow.external_state_change) is not available yet.'
  );
}
