import { z } from 'zod';
import type { Upstream } from '../../core/upstream.ts';
import { mapLimit } from '../http.ts';
import type { AdapterContext, PinResult } from '../types.ts';
import { type AirflowClient, connectAirflow, type Paged, runPath, tiPath } from './client.ts';
import { FAILED_STATES, rootFailures } from './graph.ts';
import { streamTryLog } from './logs.ts';
import {
  type AirflowSnapshot,
  Dag,
  type DagRun,
  DagRunCollection,
  DagRun as DagRunSchema,
  ImportErrorCollection,
  type ImportErrorItem,
  TaskCollection,
  TaskInstance,
  TaskInstanceCollection,
  type TryInfo,
} from './schema.ts';

const CONCURRENCY = 4;
/** Failed tasks whose tries' logs are read. */
const MAX_LOG_TASKS = 6;
/** Latest tries read per failed task. */
const MAX_TRIES = 4;
/** Previous runs used as a baseline. */
const MAX_HISTORY = 7;

function keep<T>(r: Upstream<T>, gaps: string[]): T | undefined {
  if (r.status === 'ok') return r.data;
  gaps.push(r.message);
  return undefined;
}

/** The rows of a paged list; a failed or incomplete list becomes a gap. */
function keepAll<T>(r: Upstream<Paged<T>>, gaps: string[]): T[] {
  const got = keep(r, gaps);
  if (got?.incomplete) gaps.push(got.incomplete);
  return got?.items ?? [];
}

const tiRows = (p: { task_instances: TaskInstance[] }) => p.task_instances;

/** Every task instance of a run, all pages (a mapped task has one row per map index). */
export function listTaskInstances(client: AirflowClient, dagId: string, runId: string) {
  return client.list(`${runPath(dagId, runId)}/taskInstances`, TaskInstanceCollection, tiRows);
}

/**
 * The failed map indexes of each mapped task, earliest failure first (ties: lowest index): the first
 * is the instance whose tries and logs are read. Unmapped tasks are absent.
 */
export function failedMapIndexes(tis: TaskInstance[]): Record<string, number[]> {
  const failed = tis
    .filter((t) => FAILED_STATES.has(t.state ?? '') && (t.map_index ?? -1) >= 0)
    .sort(
      (a, b) =>
        (Date.parse(a.end_date ?? '') || Infinity) - (Date.parse(b.end_date ?? '') || Infinity) ||
        (a.map_index ?? 0) - (b.map_index ?? 0),
    );
  const out: Record<string, number[]> = {};
  for (const t of failed) out[t.task_id] = [...(out[t.task_id] ?? []), t.map_index ?? 0];
  return out;
}

/** The map index read for a task: its first failed index when mapped, else undefined. */
const mapIndexOf = (snap: AirflowSnapshot, taskId: string): number | undefined =>
  snap.failedMapIndexes?.[taskId]?.[0];

function emptySnapshot(dagId: string, runId: string, targetTaskId?: string): AirflowSnapshot {
  return {
    major: 0,
    apiRoot: '',
    dagId,
    runId,
    ...(targetTaskId ? { targetTaskId } : {}),
    tasks: [],
    taskInstances: [],
    tries: {},
    logs: [],
    history: [],
    importErrors: [],
    otherImportErrors: 0,
  };
}

/** Does an import error concern this DAG's file (absolute `fileloc` or bundle-relative path)? */
export function sameFile(e: ImportErrorItem, dag: z.infer<typeof Dag> | undefined | null): boolean {
  const f = e.filename;
  if (!f || !dag) return false;
  const locs = [dag.fileloc, dag.relative_fileloc].filter((x): x is string => !!x);
  return locs.some(
    (l) => l === f || l.endsWith(`/${f.replace(/^\/+/, '')}`) || f.endsWith(`/${l.replace(/^\/+/, '')}`),
  );
}

const logicalOf = (r: DagRun) => r.logical_date ?? r.execution_date ?? r.start_date ?? '';

/**
 * Collects everything the Airflow rules read for a pinned DAG run: the DAG, its task graph, the run,
 * all task instances, every try (and its log) of the failed tasks, previous runs as a baseline and the
 * import errors of the DAG file. Every failed endpoint becomes a gap; nothing upstream makes it throw.
 */
export async function collectSnapshot(
  pin: PinResult,
  ctx: AdapterContext,
): Promise<{ snapshot: AirflowSnapshot; gaps: string[] }> {
  const t = pin.target;
  if (t.platform !== 'airflow' || !t.runId) throw new Error('collectSnapshot needs a pinned Airflow target');
  const snap = emptySnapshot(t.dagId, t.runId, t.taskId);
  const gaps: string[] = [];
  const conn = await connectAirflow(ctx);
  if (conn.status !== 'ok') return { snapshot: snap, gaps: [conn.message] };
  const client = conn.data;
  snap.major = client.major;
  snap.apiRoot = client.apiRoot;
  if (client.version) snap.airflowVersion = client.version;
  await collectOverview(client, snap, gaps);
  await collectFailures(client, ctx, snap, gaps);
  await collectHistory(client, ctx, snap, gaps);
  return { snapshot: snap, gaps: [...new Set(gaps)] };
}

async function collectOverview(client: AirflowClient, snap: AirflowSnapshot, gaps: string[]): Promise<void> {
  const dagPath = `/dags/${encodeURIComponent(snap.dagId)}`;
  const run = runPath(snap.dagId, snap.runId);
  const [dag, tasks, dagRun, tis, errors] = await Promise.all([
    client.get(dagPath, Dag),
    client.get(`${dagPath}/tasks`, TaskCollection),
    client.get(run, DagRunSchema),
    listTaskInstances(client, snap.dagId, snap.runId),
    client.list('/importErrors', ImportErrorCollection, (p) => p.import_errors),
  ]);
  snap.dag = keep(dag, gaps);
  snap.tasks = keep(tasks, gaps)?.tasks ?? [];
  snap.run = keep(dagRun, gaps);
  snap.taskInstances = keepAll(tis, gaps);
  const mapped = failedMapIndexes(snap.taskInstances);
  if (Object.keys(mapped).length) snap.failedMapIndexes = mapped;
  const all = keepAll(errors, gaps);
  snap.importErrors = all.filter((e) => sameFile(e, snap.dag));
  snap.otherImportErrors = all.length - snap.importErrors.length;
}

/** Failed tasks worth reading: the root failures first, then the other failed tasks. */
export function failedTasks(snap: AirflowSnapshot): string[] {
  const roots = rootFailures(snap.tasks, snap.taskInstances, snap.targetTaskId ?? undefined);
  const others = snap.taskInstances.filter((ti) => FAILED_STATES.has(ti.state ?? '')).map((ti) => ti.task_id);
  return [...new Set([...roots, ...others])].slice(0, MAX_LOG_TASKS);
}

const TriesCollection = z.object({ task_instances: z.array(z.unknown()) });

function tryInfo(ti: TaskInstance): TryInfo {
  return {
    tryNumber: ti.try_number,
    state: ti.state,
    duration: ti.duration,
    startDate: ti.start_date,
    endDate: ti.end_date,
    hostname: ti.hostname,
  };
}

async function collectTries(
  client: AirflowClient,
  snap: AirflowSnapshot,
  taskId: string,
): Promise<TryInfo[]> {
  const mapIndex = mapIndexOf(snap, taskId);
  const want = mapIndex ?? -1;
  const ti = snap.taskInstances.find(
    (x) => x.task_id === taskId && FAILED_STATES.has(x.state ?? '') && (x.map_index ?? -1) === want,
  );
  const path = `${tiPath(snap.dagId, snap.runId, taskId, mapIndex)}/tries`;
  const got = await client.get(path, TriesCollection);
  // Only the tries of the instance read (a tries list may carry other map indexes' rows).
  const parsed =
    got.status === 'ok'
      ? got.data.task_instances.flatMap((x) => {
          const p = TaskInstance.safeParse(x);
          return p.success && (p.data.map_index ?? want) === want ? [tryInfo(p.data)] : [];
        })
      : [];
  const byTry = new Map(parsed.map((x) => [x.tryNumber, x]));
  if (ti) byTry.set(ti.try_number, { ...tryInfo(ti), ...(byTry.get(ti.try_number) ?? {}), state: ti.state });
  return [...byTry.values()].sort((a, b) => a.tryNumber - b.tryNumber);
}

async function collectFailures(
  client: AirflowClient,
  ctx: AdapterContext,
  snap: AirflowSnapshot,
  gaps: string[],
): Promise<void> {
  const ids = failedTasks(snap);
  const tries = await mapLimit(ids, CONCURRENCY, (id) => collectTries(client, snap, id));
  ids.forEach((id, i) => {
    snap.tries[id] = tries[i] ?? [];
  });
  const requests = ids.flatMap((taskId) => {
    const latest = Math.max(0, ...(snap.tries[taskId] ?? []).map((x) => x.tryNumber));
    const from = Math.max(1, latest - MAX_TRIES + 1);
    const mapIndex = mapIndexOf(snap, taskId);
    return Array.from({ length: Math.max(0, latest - from + 1) }, (_, k) => ({
      taskId,
      tryNumber: from + k,
      ...(mapIndex !== undefined ? { mapIndex } : {}),
    }));
  });
  const logs = await mapLimit(requests, CONCURRENCY, (r) =>
    streamTryLog(client, ctx, { dagId: snap.dagId, runId: snap.runId, ...r }, (n) => gaps.push(n)),
  );
  logs.forEach((l, i) => {
    const got = keep(l, gaps);
    const mapIndex = requests[i]?.mapIndex;
    if (got) snap.logs.push(mapIndex !== undefined ? { ...got, mapIndex } : got);
  });
}

async function collectHistory(
  client: AirflowClient,
  ctx: AdapterContext,
  snap: AirflowSnapshot,
  gaps: string[],
): Promise<void> {
  const list = await client.get(
    `/dags/${encodeURIComponent(snap.dagId)}/dagRuns?limit=25&order_by=-start_date`,
    DagRunCollection,
  );
  const runs = keep(list, gaps)?.dag_runs ?? [];
  const here = snap.run ? logicalOf(snap.run) : '';
  const prior = runs
    .filter((r) => r.dag_run_id !== snap.runId && (!here || logicalOf(r) < here))
    .sort((a, b) => logicalOf(b).localeCompare(logicalOf(a)))
    .slice(0, MAX_HISTORY);
  const tis = await mapLimit(prior, CONCURRENCY, (r) => listTaskInstances(client, snap.dagId, r.dag_run_id));
  snap.history = prior.map((r, i) => {
    const got = tis[i];
    if (got && got.status !== 'ok') gaps.push(`baseline run ${r.dag_run_id}: ${got.message}`);
    if (got?.status === 'ok' && got.data.incomplete)
      gaps.push(`baseline run ${r.dag_run_id}: ${got.data.incomplete}`);
    const list = got?.status === 'ok' ? got.data.items : [];
    return {
      runId: r.dag_run_id,
      state: r.state,
      logicalDate: logicalOf(r),
      tasks: list.map((ti) => ({
        taskId: ti.task_id,
        state: ti.state,
        duration: ti.duration,
        tryNumber: ti.try_number,
      })),
    };
  });
  await collectBaselineLogs(client, ctx, snap);
}

/** The log of the last successful previous run of each root failure, when the server still has it. */
async function collectBaselineLogs(client: AirflowClient, ctx: AdapterContext, snap: AirflowSnapshot) {
  const roots = rootFailures(snap.tasks, snap.taskInstances, snap.targetTaskId ?? undefined).slice(0, 2);
  const reqs = roots.flatMap((taskId) => {
    const run = snap.history.find((h) => h.tasks.some((x) => x.taskId === taskId && x.state === 'success'));
    const ti = run?.tasks.find((x) => x.taskId === taskId);
    // A mapped task's baseline is the same map index in the earlier run.
    const mapIndex = mapIndexOf(snap, taskId);
    const tryNumber = Math.max(1, ti?.tryNumber ?? 1);
    return run && ti
      ? [{ taskId, runId: run.runId, tryNumber, ...(mapIndex !== undefined ? { mapIndex } : {}) }]
      : [];
  });
  const logs = await mapLimit(reqs, CONCURRENCY, (r) =>
    streamTryLog(client, ctx, { dagId: snap.dagId, ...r, baseline: true }, () => {}),
  );
  // A missing baseline log is normal (rotated or never served): it is not a gap.
  logs.forEach((l, i) => {
    const mapIndex = reqs[i]?.mapIndex;
    if (l.status === 'ok') snap.logs.push(mapIndex !== undefined ? { ...l.data, mapIndex } : l.data);
  });
}
