import { looksLikeInjection } from '../../core/injection.ts';
import { truncate } from '../../core/redact.ts';
import type { Evidence } from '../../core/report.ts';
import { type EvidenceDraft, gapDrafts, numberEvidence } from '../evidence.ts';
import { runPath, tiLabel, tiPath } from './client.ts';
import { CASUALTY_STATES, FAILED_STATES, pathTo, rootFailures, stateOf } from './graph.ts';
import { SIGNATURES } from './patterns.ts';
import type { AirflowSnapshot, TaskInstance, TimeDelta, TryLog } from './schema.ts';

type Draft = EvidenceDraft;

/** Seconds of a serialised timedelta. */
export const tdSeconds = (t: TimeDelta | null | undefined): number | undefined =>
  t ? t.days * 86400 + t.seconds + t.microseconds / 1e6 : undefined;

/** Seconds as `42 s`, `12.5 min` or `2.0 h`. */
export function fmtS(s: number | null | undefined): string {
  if (s === undefined || s === null || !Number.isFinite(s)) return 'n/a';
  if (s >= 7200) return `${(s / 3600).toFixed(1)} h`;
  if (s >= 120) return `${(s / 60).toFixed(1)} min`;
  return `${s.toFixed(1)} s`;
}

function runDraft(s: AirflowSnapshot): Draft | undefined {
  const r = s.run;
  if (!r) return undefined;
  const v = r.dag_versions?.at(-1);
  const lines = [
    `DAG ${s.dagId} run ${r.dag_run_id}: ${r.state ?? '?'} (${r.run_type ?? '?'})`,
    `logical date ${r.logical_date ?? r.execution_date ?? '?'} · started ${r.start_date ?? '?'} · ended ${r.end_date ?? '?'}`,
    `Airflow ${s.airflowVersion ?? `${s.major}.x`}${v ? ` · DAG version ${v.version_number ?? '?'}${v.bundle_version ? ` (bundle ${v.bundle_version})` : ''}` : ''}`,
  ];
  return {
    key: 'run',
    source: 'airflow.dag_run',
    title: `DAG run ${r.state ?? ''}`,
    excerpt: lines.join('\n'),
    ref: `${s.apiRoot}${runPath(s.dagId, s.runId)}`,
  };
}

const tiRow = (t: TaskInstance) =>
  `${tiLabel(t.task_id, t.map_index)}: ${t.state ?? 'none'} · try ${t.try_number} · ${fmtS(t.duration)}`;

/** One line per mapped task (its instances counted by state), then its failed instances (at most 5). */
function mappedRows(tis: TaskInstance[]): string[] {
  const counts = new Map<string, number>();
  for (const t of tis) counts.set(t.state ?? 'none', (counts.get(t.state ?? 'none') ?? 0) + 1);
  const states = [...counts].map(([st, n]) => `${n} ${st}`).join(', ');
  const failed = tis.filter((t) => FAILED_STATES.has(t.state ?? ''));
  return [
    `${tis[0]?.task_id}: ${tis.length} mapped instance(s): ${states}`,
    ...failed.slice(0, 5).map((t) => `  ${tiRow(t)}`),
    ...(failed.length > 5 ? [`  … and ${failed.length - 5} more failed`] : []),
  ];
}

function tiDraft(s: AirflowSnapshot): Draft | undefined {
  if (!s.taskInstances.length) return undefined;
  const byTask = new Map<string, TaskInstance[]>();
  for (const t of s.taskInstances) byTask.set(t.task_id, [...(byTask.get(t.task_id) ?? []), t]);
  const rows = [...byTask.values()]
    .flatMap((tis) => (tis.some((t) => (t.map_index ?? -1) >= 0) ? mappedRows(tis) : tis.map(tiRow)))
    .slice(0, 40);
  return {
    key: 'tis',
    source: 'airflow.task_instances',
    title: 'Task instances of the run',
    excerpt: rows.join('\n'),
    ref: `${s.apiRoot}${runPath(s.dagId, s.runId)}/taskInstances`,
  };
}

function graphDraft(s: AirflowSnapshot, roots: string[]): Draft | undefined {
  const state = stateOf(s.taskInstances);
  const casualties = [...state].filter(([, st]) => CASUALTY_STATES.has(st)).map(([id]) => id);
  if (!roots.length || (!casualties.length && !s.targetTaskId)) return undefined;
  const label = (id: string) => tiLabel(id, s.failedMapIndexes?.[id]?.[0]);
  const lines = roots.map((r) => `first failing task: ${label(r)} (${state.get(r) ?? '?'})`);
  const target = s.targetTaskId;
  if (target && !roots.includes(target)) {
    const path = roots.map((r) => pathTo(s.tasks, r, target)).find(Boolean);
    lines.push(
      `alerted task ${target} is ${state.get(target) ?? '?'}${path ? `; path: ${path.map((p) => `${p} (${state.get(p) ?? '?'})`).join(' → ')}` : ''}`,
    );
  }
  if (casualties.length) lines.push(`upstream_failed (casualties): ${casualties.join(', ')}`);
  const rules = s.tasks.filter(
    (t) => casualties.includes(t.task_id) && t.trigger_rule && t.trigger_rule !== 'all_success',
  );
  for (const t of rules) lines.push(`${t.task_id} trigger_rule=${t.trigger_rule}`);
  return {
    key: 'graph',
    source: 'airflow.graph',
    title: 'Upstream trace',
    excerpt: lines.join('\n'),
    ref: `${s.apiRoot}/dags/${encodeURIComponent(s.dagId)}/tasks`,
  };
}

function taskDraft(s: AirflowSnapshot, id: string): Draft | undefined {
  const t = s.tasks.find((x) => x.task_id === id);
  const tries = s.tries[id] ?? [];
  if (!t && !tries.length) return undefined;
  const indexes = s.failedMapIndexes?.[id] ?? [];
  const name = tiLabel(id, indexes[0]);
  const lines = [
    t
      ? `${name}: ${t.class_ref?.class_name ?? t.operator_name ?? 'operator ?'} · execution_timeout ${fmtS(tdSeconds(t.execution_timeout))} · retries ${t.retries ?? '?'}`
      : name,
    ...(indexes.length > 1
      ? [`also failed: map index ${indexes.slice(1, 11).join(', ')}${indexes.length > 11 ? ', …' : ''}`]
      : []),
    ...tries.map(
      (x) =>
        `try ${x.tryNumber}: ${x.state ?? '?'} · ${fmtS(x.duration)} · ${x.startDate ?? '?'} → ${x.endDate ?? '?'}${x.hostname ? ` on ${x.hostname}` : ''}`,
    ),
  ];
  return {
    key: `task:${id}`,
    source: 'airflow.task',
    title: `Task ${name} and its tries`,
    excerpt: lines.join('\n'),
    ref: `${s.apiRoot}${tiPath(s.dagId, s.runId, id, indexes[0])}/tries`,
  };
}

function lineScore(text: string): number {
  if (looksLikeInjection(text)) return 0;
  if (SIGNATURES.some(([, re]) => re.test(text))) return 3;
  if (/^\s+File "/.test(text)) return 0;
  if (/\b(?:ERROR|CRITICAL)\b|^\w[\w.]*(?:Error|Exception|Timeout)\b/.test(text)) return 2;
  if (/\bWARN(?:ING)?\b|return code|Poking|columns?\b|Executing <Task|Starting attempt/.test(text)) return 1;
  return 0;
}

function logDraft(log: TryLog): Draft {
  const keep = log.lines
    .map((l) => ({ ...l, s: lineScore(l.text) }))
    .filter((l) => l.s > 0)
    .sort((a, b) => b.s - a.s || a.n - b.n)
    .slice(0, 14)
    .sort((a, b) => a.n - b.n);
  const text =
    keep.map((l) => `L${l.n}: ${truncate(l.text, 300)}`).join('\n') || '(no error lines in this log)';
  const key = log.baseline ? `baseline:${log.taskId}` : `log:${log.taskId}:${log.tryNumber}`;
  const name = tiLabel(log.taskId, log.mapIndex);
  const title = log.baseline
    ? `Log of ${name} in the last successful run`
    : `Log of ${name}, try ${log.tryNumber}${log.truncated ? ' (partly read)' : ''}`;
  return { key, source: 'airflow.log', title, excerpt: text, ref: log.ref };
}

function historyDraft(s: AirflowSnapshot, id: string): Draft | undefined {
  const rows = s.history
    .map((h) => ({ h, t: h.tasks.find((x) => x.taskId === id) }))
    .filter((x) => x.t)
    .map(
      ({ h, t }) =>
        `${h.logicalDate ?? h.runId}: ${t?.state ?? '?'} · ${fmtS(t?.duration)}${(t?.tryNumber ?? 1) > 1 ? ` · ${t?.tryNumber} tries` : ''}`,
    );
  if (!rows.length) return undefined;
  return {
    key: `history:${id}`,
    source: 'airflow.history',
    title: `${id} in the previous ${rows.length} run(s)`,
    excerpt: rows.join('\n'),
    ref: `${s.apiRoot}/dags/${encodeURIComponent(s.dagId)}/dagRuns`,
  };
}

function importDrafts(s: AirflowSnapshot): Draft[] {
  const out: Draft[] = [];
  const d = s.dag;
  if (d)
    out.push({
      key: 'dag',
      source: 'airflow.dag',
      title: `DAG ${s.dagId}`,
      excerpt: `file ${d.fileloc ?? d.relative_fileloc ?? '?'}${d.bundle_name ? ` (bundle ${d.bundle_name}${d.bundle_version ? `@${d.bundle_version}` : ''})` : ''} · has_import_errors=${d.has_import_errors ?? '?'} · paused=${d.is_paused ?? '?'} · last parsed ${d.last_parsed_time ?? '?'}${s.otherImportErrors ? ` · ${s.otherImportErrors} import error(s) in other files` : ''}`,
      ref: `${s.apiRoot}/dags/${encodeURIComponent(s.dagId)}`,
    });
  s.importErrors.slice(0, 3).forEach((e, i) => {
    const lines = (e.stack_trace ?? '').split('\n').filter((l) => l.trim());
    out.push({
      key: i === 0 ? 'import_error' : `import_error:${i}`,
      source: 'airflow.import_error',
      title: `Import error in ${e.filename ?? 'the DAG file'} (since ${e.timestamp ?? '?'})`,
      excerpt: lines.slice(-6).join('\n'),
      ref: `${s.apiRoot}/importErrors${e.import_error_id !== undefined && e.import_error_id !== null ? `/${e.import_error_id}` : ''}`,
    });
  });
  return out;
}

/**
 * Evidence for an Airflow snapshot: the run, task instances, the upstream trace, the root failures'
 * task definitions, tries, logs (every try) and history, the DAG file and its import errors, gaps.
 * Ids E1… in that stable order; `evidenceIndex` maps keys (`log:<task>:<try>`, …) to ids.
 */
export function buildEvidence(
  s: AirflowSnapshot,
  gaps: string[],
): { evidence: Evidence[]; evidenceIndex: Record<string, string> } {
  const roots = rootFailures(s.tasks, s.taskInstances, s.targetTaskId ?? undefined);
  const failed = [
    ...new Set([
      ...roots,
      ...s.taskInstances.filter((t) => FAILED_STATES.has(t.state ?? '')).map((t) => t.task_id),
    ]),
  ];
  const logs = [...s.logs].sort(
    (a, b) =>
      Number(a.baseline) - Number(b.baseline) ||
      failed.indexOf(a.taskId) - failed.indexOf(b.taskId) ||
      b.tryNumber - a.tryNumber,
  );
  const drafts = [
    runDraft(s),
    tiDraft(s),
    graphDraft(s, roots),
    ...failed.flatMap((id) => [taskDraft(s, id), historyDraft(s, id)]),
    ...logs.map((l) => logDraft(l)),
    ...importDrafts(s),
    ...gapDrafts('airflow', gaps),
  ].filter((d): d is Draft => d !== undefined);
  return numberEvidence(drafts);
}
