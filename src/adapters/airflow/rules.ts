import type { Collection, Finding, PinResult, RuleOutcome } from '../types.ts';
import { CASUALTY_STATES, FAILED_STATES, rootFailures, stateOf } from './graph.ts';
import { externalNote } from './rules/external.ts';
import { CATEGORY_OF, signalsOf } from './rules/signals.ts';
import { type Ids, taskFindings, verdicts } from './rules/task.ts';
import type { AirflowSnapshot } from './schema.ts';

function makeIds(index: Record<string, string>): Ids {
  return (keys) => [...new Set(keys.flatMap((k) => (k && index[k] ? [index[k]] : [])))];
}

/** dag_import_error: the DAG file does not import (import error for its fileloc / has_import_errors). */
function importFinding(s: AirflowSnapshot, roots: string[], ids: Ids): Finding | undefined {
  const err = s.importErrors[0];
  if (!err && !s.dag?.has_import_errors) return undefined;
  const explained = roots.some((r) => verdicts(s, r).at(-1)?.fatal);
  const since = Date.parse(err?.timestamp ?? '');
  const ends = roots
    .flatMap((r) => (s.tries[r] ?? []).map((t) => Date.parse(t.endDate ?? '')))
    .filter(Number.isFinite);
  const after = Number.isFinite(since) && ends.length > 0 && since > Math.max(...ends);
  const wins = !!err && !explained && !after;
  const last = (err?.stack_trace ?? '').trim().split('\n').at(-1) ?? '';
  return {
    category: 'airflow.dag_import_error',
    title: 'The DAG file does not import',
    likelihood: wins ? 90 : err ? 35 : 45,
    status: wins ? 'confirmed' : 'inconclusive',
    evidenceFor: ids([
      'import_error',
      'dag',
      ...roots.flatMap((r) => [`task:${r}`, ...verdicts(s, r).map((v) => `log:${r}:${v.tryNumber}`)]),
    ]),
    evidenceAgainst: explained ? ids(roots.map((r) => `log:${r}:${verdicts(s, r).at(-1)?.tryNumber}`)) : [],
    reasoning: [
      err
        ? `Import error for the DAG file ${err.filename} since ${err.timestamp}: ${last.slice(0, 240)}`
        : 'The DAG reports has_import_errors=true but no import error names its file',
      explained
        ? 'but the failing task ran and failed with its own error'
        : 'no task try ran its code (no task log with an error)',
      after ? 'and the import error appeared only after the failure' : '',
    ]
      .filter(Boolean)
      .join('; '),
    culprit: { kind: 'dag', id: s.dagId },
    decisive: !!err,
    summary: `The DAG file ${err?.filename ?? s.dag?.fileloc ?? ''} no longer imports${last ? ` (${last.slice(0, 200)})` : ''}, so its tasks could not run. Fix the DAG code and redeploy.`,
    deterministic: true,
  };
}

/** upstream_failure: the alerted task is a casualty of an upstream failure (never the root cause). */
function upstreamFinding(s: AirflowSnapshot, roots: string[], ids: Ids): Finding | undefined {
  const target = s.targetTaskId;
  if (!target || !CASUALTY_STATES.has(stateOf(s.taskInstances).get(target) ?? '')) return undefined;
  return {
    category: 'airflow.upstream_failure',
    title: `${target} never ran: upstream_failed`,
    likelihood: 90,
    status: 'confirmed',
    evidenceFor: ids(['graph', 'tis']),
    evidenceAgainst: [],
    reasoning: `${target} is upstream_failed; walking the graph upstream leads to ${roots.join(', ') || 'no failed task'}.`,
    culprit: { kind: 'task', id: target },
    decisive: true,
    summary: `${target} is a casualty: investigate ${roots.join(', ') || 'the upstream tasks'}.`,
  };
}

/** Zombie / SIGTERM warnings in logs of tasks that are not root failures: noise. */
function noiseFindings(s: AirflowSnapshot, roots: string[], ids: Ids): Finding[] {
  const noisy = s.logs.filter(
    (l) =>
      !l.baseline &&
      !roots.includes(l.taskId) &&
      signalsOf(l).some((x) => CATEGORY_OF[x.sig] === 'airflow.zombie_task'),
  );
  return noisy.slice(0, 1).map((l) => ({
    category: 'airflow.zombie_task' as const,
    title: `Zombie/heartbeat warning on ${l.taskId}`,
    likelihood: 10,
    status: 'dismissed' as const,
    evidenceFor: ids([`log:${l.taskId}:${l.tryNumber}`]),
    evidenceAgainst: ids(roots.map((r) => `task:${r}`)),
    reasoning: `${l.taskId} is not on the failing path (the first failing task is ${roots.join(', ') || 'unknown'}): its heartbeat warning is noise.`,
    decisive: false,
    summary: 'A heartbeat warning on an unrelated task.',
  }));
}

function failureReason(s: AirflowSnapshot): string | undefined {
  const failed = s.taskInstances.filter((t) => FAILED_STATES.has(t.state ?? ''));
  if (failed.length) return `task(s) ${[...new Set(failed.map((t) => t.task_id))].join(', ')} failed`;
  if (s.run?.state === 'failed') return 'the DAG run failed';
  if (s.importErrors.length && s.run?.state !== 'success') return 'the DAG file has an import error';
  return undefined;
}

/** Keeps one confirmed root-cause finding per category ranking: the first root failure's wins. */
function arbitrate(findings: Finding[]): Finding[] {
  const score = (f: Finding) =>
    (f.status === 'confirmed' && f.category !== 'airflow.upstream_failure' ? 1000 : 0) + f.likelihood;
  const ranked = [...findings].sort((a, b) => score(b) - score(a));
  const top = ranked.find((f) => f.status === 'confirmed' && f.category !== 'airflow.upstream_failure');
  return ranked.map((f) =>
    !top ||
    f === top ||
    f.status !== 'confirmed' ||
    f.category === 'airflow.upstream_failure' ||
    f.category === top.category
      ? f
      : {
          ...f,
          status: 'inconclusive' as const,
          likelihood: Math.min(f.likelihood, top.likelihood - 20),
          reasoning: `${f.reasoning} Ranked below ${top.category}.`,
        },
  );
}

/**
 * The offline Airflow rules: trace upstream first, let the latest try of each first failing task decide
 * its category, weigh import errors, earlier tries, warnings and unrelated zombies against it. A healthy
 * or still-running DAG run abstains (`failed: false`).
 */
export function airflowRules(collection: Collection<AirflowSnapshot>, _pin: PinResult): RuleOutcome {
  const s = collection.facts;
  const ids = makeIds(collection.evidenceIndex);
  const why = failureReason(s);
  if (!why) {
    const state = s.run?.state ?? 'unknown';
    const notes = s.run
      ? [`The DAG run is ${state} and no task failed: nothing to diagnose.`]
      : ['The DAG run could not be read: nothing to diagnose.'];
    if (collection.gaps.length) notes.push(`Evidence gaps: ${collection.gaps.join('; ')}`);
    return { failed: !s.run && collection.gaps.length > 0, findings: [], notes };
  }
  const roots = rootFailures(s.tasks, s.taskInstances, s.targetTaskId ?? undefined);
  const raw = [
    ...roots.slice(0, 3).flatMap((r, i) => taskFindings(s, r, ids, i)),
    importFinding(s, roots, ids),
    upstreamFinding(s, roots, ids),
    ...noiseFindings(s, roots, ids),
  ].filter((f): f is Finding => f !== undefined);
  const findings = arbitrate(raw);
  const notes = [`The run failed: ${why}.`];
  if (roots.length) notes.push(`First failing task(s), traced upstream: ${roots.join(', ')}.`);
  const external = roots.flatMap((r) => {
    const latest = verdicts(s, r).at(-1);
    const note = latest && externalNote(r, latest);
    return note ? [note] : [];
  });
  notes.push(...external);
  if (collection.gaps.length) notes.push(`Evidence gaps: ${collection.gaps.join('; ')}`);
  if (
    !external.length &&
    !findings.some((f) => f.status === 'confirmed' && f.category !== 'airflow.upstream_failure')
  )
    notes.push(
      roots.length
        ? `No known failure signature in the logs of ${roots.join(', ')}: the exception in the latest try's log (or the worker's own logs) would decide.`
        : 'No failed task was found: the scheduler log would decide.',
    );
  return { failed: true, findings, notes };
}
