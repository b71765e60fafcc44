import { z } from 'zod';
import type { Target } from '../../core/target.ts';
import { noData, ok, type Upstream, upstreamError } from '../../core/upstream.ts';
import { openUrl, parseJsonBody } from '../http.ts';
import type {
  AdapterContext,
  PinResult,
  RerunCapability,
  RerunPlan,
  RerunProgress,
  RerunStarted,
} from '../types.ts';
import { type AirflowClient, connectAirflow, tiLabel, tiPath } from './client.ts';
import { TaskInstance } from './schema.ts';

/** A failed task instance of the pinned run (a mapped one with its map index) and the try that failed. */
export interface FailedTry {
  taskId: string;
  /** Map index of a failed mapped task instance; absent when the task is not mapped. */
  mapIndex?: number;
  tryNumber: number;
}

/** A `task_ids` item of clearTaskInstances: a task id, or (Airflow 3) a `[task_id, map_index]` pair. */
export type ClearTarget = string | [string, number];

const FailedTrySchema = z.object({
  taskId: z.string(),
  mapIndex: z.number().optional(),
  tryNumber: z.number(),
});

/** `clearTaskInstances` answers: v1 TaskInstanceReferenceCollection, v2 TaskInstanceCollectionResponse. */
const Cleared = z.object({
  task_instances: z.array(
    z.looseObject({
      task_id: z.string(),
      dag_run_id: z.string().nullish(),
      map_index: z.number().nullish(),
    }),
  ),
});

/**
 * The failed task instances recorded in the pin (`<dag>/<run>[@vN]#<task>[<map index>]:try<N>…`, see
 * pinAirflow): the immutable failing state, never the run's current state. Falls back to the target's
 * task id (try unknown: 0).
 */
export function failedTries(pin: PinResult): FailedTry[] {
  const t = pin.target;
  if (t.platform !== 'airflow' || !t.runId) return [];
  const head = `${t.dagId}/${t.runId}`;
  const rest = pin.pinned.ref.startsWith(head) ? pin.pinned.ref.slice(head.length) : '';
  // Task ids are letters, digits, `-`, `_` and `.`: a trailing `[N]` is a map index.
  const out = [...rest.matchAll(/#([^#:\s[\]]+)(?:\[(\d+)\])?:try(\d+)/g)].map((m) => ({
    taskId: m[1] as string,
    ...(m[2] !== undefined ? { mapIndex: Number(m[2]) } : {}),
    tryNumber: Number(m[3]),
  }));
  if (out.length === 0 && t.taskId) return [{ taskId: t.taskId, tryNumber: 0 }];
  return out;
}

/**
 * What to clear for the failed instances. Airflow 3 takes `[task_id, map_index]` pairs, so only the
 * failed map indexes are cleared. Airflow 2's `ClearTaskInstances.task_ids` takes task id strings only
 * (a pair is a 400): the task id is sent and `only_failed` keeps its successful indexes untouched.
 */
export function clearTargets(tries: FailedTry[], major: 2 | 3): ClearTarget[] {
  const out = new Map<string, ClearTarget>();
  for (const t of tries) {
    const pair = major === 3 && t.mapIndex !== undefined && t.mapIndex >= 0;
    out.set(
      pair ? `${t.taskId}[${t.mapIndex}]` : t.taskId,
      pair ? [t.taskId, t.mapIndex as number] : t.taskId,
    );
  }
  return [...out.values()];
}

/** The request body of `POST …/dags/{dag_id}/clearTaskInstances` (same keys in Airflow 2 and 3). */
export function clearBody(runId: string, taskIds: ClearTarget[], dryRun: boolean): Record<string, unknown> {
  return {
    dag_run_id: runId,
    task_ids: taskIds,
    dry_run: dryRun,
    only_failed: true,
    include_downstream: true,
    include_upstream: false,
    include_past: false,
    include_future: false,
    reset_dag_runs: true,
  };
}

async function authHeaders(
  client: AirflowClient,
  ctx: AdapterContext,
): Promise<Upstream<Record<string, string>>> {
  const { AIRFLOW_USERNAME: user, AIRFLOW_PASSWORD: pass, AIRFLOW_TOKEN: token } = ctx.config;
  if (client.major === 2 && user && pass)
    return ok({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
  if (client.major === 3 && user && pass) {
    const jwt = await client.login();
    return jwt.status === 'ok' ? ok({ authorization: `Bearer ${jwt.data}` }) : jwt;
  }
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return ok(headers);
}

type AirflowTarget = Extract<Target, { platform: 'airflow' }>;

async function clear(
  pin: PinResult,
  ctx: AdapterContext,
  dryRun: boolean,
): Promise<Upstream<{ items: string[]; tries: FailedTry[]; runId: string }>> {
  const t = pin.target as AirflowTarget;
  const tries = failedTries(pin);
  if (t.platform !== 'airflow' || !t.runId) return upstreamError('not a pinned Airflow run', false);
  if (tries.length === 0) return noData(`No failed task instances are recorded in the pinned run ${t.runId}`);
  const conn = await connectAirflow(ctx);
  if (conn.status !== 'ok') return conn;
  const client = conn.data;
  const auth = await authHeaders(client, ctx);
  if (auth.status !== 'ok') return auth;
  const path = `${client.apiRoot}/dags/${encodeURIComponent(t.dagId)}/clearTaskInstances`;
  const what = `Airflow: POST ${path}${dryRun ? ' (dry run)' : ''}`;
  const body = clearBody(t.runId, clearTargets(tries, client.major), dryRun);
  const opened = await openUrl(`${client.base}${path}`, what, ctx, 'application/json', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth.data },
    body: JSON.stringify(body),
  });
  if (!opened.ok) return opened.result;
  const res = await parseJsonBody(opened.res, what, Cleared, ctx);
  if (res.status !== 'ok') return res;
  const other = res.data.task_instances.filter((ti) => ti.dag_run_id && ti.dag_run_id !== t.runId);
  if (other.length)
    return upstreamError(`${what} would touch another run (${other[0]?.dag_run_id}); refusing`, false);
  const items = res.data.task_instances.map((ti) => tiLabel(ti.task_id, ti.map_index));
  return ok({ items, tries, runId: t.runId });
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

async function followTask(client: AirflowClient, t: AirflowTarget, runId: string, f: FailedTry) {
  const ti = await client.get(tiPath(t.dagId, runId, f.taskId, f.mapIndex), TaskInstance);
  if (ti.status !== 'ok') return ti;
  const state = ti.data.state ?? 'none';
  const newTry = ti.data.try_number > f.tryNumber;
  const outcome: RerunProgress['state'] =
    newTry && state === 'success'
      ? 'succeeded'
      : newTry && /failed|shutdown/.test(state)
        ? 'failed'
        : 'running';
  return ok({ outcome, line: `${tiLabel(f.taskId, f.mapIndex)}: ${state} (try ${ti.data.try_number})` });
}

/** Airflow: clear the pinned run's failed task instances (and their downstream), dry run first. */
export const airflowRerun: RerunCapability = {
  supports(target) {
    if (target.platform !== 'airflow') return { ok: false, why: 'not an Airflow target' };
    return { ok: true, what: 'clear the failed task instances of the pinned run (dry run first)' };
  },

  async preview(pin, ctx): Promise<Upstream<RerunPlan>> {
    const r = await clear(pin, ctx, true);
    if (r.status !== 'ok') return r;
    const { items, runId } = r.data;
    if (items.length === 0)
      return noData(`Airflow would clear nothing in run ${runId}: it may have been cleared already`);
    return ok({
      items,
      summary: `clearing would reset ${plural(items.length, 'task instance')} of run ${runId}`,
    });
  },

  async execute(pin, ctx): Promise<Upstream<RerunStarted>> {
    const r = await clear(pin, ctx, false);
    if (r.status !== 'ok') return r;
    const { items, tries, runId } = r.data;
    return ok({
      items,
      summary: `cleared ${plural(items.length, 'task instance')} of run ${runId}`,
      handle: { runId, tries },
    });
  },

  async follow(pin, started, ctx): Promise<Upstream<RerunProgress>> {
    const t = pin.target as AirflowTarget;
    const tries = z.array(FailedTrySchema).safeParse(started.handle.tries ?? failedTries(pin));
    const runId = typeof started.handle.runId === 'string' ? started.handle.runId : t.runId;
    if (!tries.success || !runId) return upstreamError('rerun handle is not an Airflow rerun', false);
    const conn = await connectAirflow(ctx);
    if (conn.status !== 'ok') return conn;
    const lines: string[] = [];
    const outcomes: RerunProgress['state'][] = [];
    for (const f of tries.data) {
      const r = await followTask(conn.data, t, runId, f);
      if (r.status !== 'ok') return r;
      lines.push(r.data.line);
      outcomes.push(r.data.outcome);
    }
    const state = outcomes.includes('failed')
      ? 'failed'
      : outcomes.every((o) => o === 'succeeded')
        ? 'succeeded'
        : 'running';
    return ok({ state, summary: lines.join('; ') });
  },
};
