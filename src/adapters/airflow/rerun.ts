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
import { type AirflowClient, connectAirflow, tiPath } from './client.ts';
import { TaskInstance } from './schema.ts';

/** A failed task of the pinned run and the try that failed. */
export interface FailedTry {
  taskId: string;
  tryNumber: number;
}

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
 * The failed tasks recorded in the pin (`<dag>/<run>[@vN]#<task>:try<N>…`, see pinAirflow): the immutable
 * failing state, never the run's current state. Falls back to the target's task id (try unknown: 0).
 */
export function failedTries(pin: PinResult): FailedTry[] {
  const t = pin.target;
  if (t.platform !== 'airflow' || !t.runId) return [];
  const head = `${t.dagId}/${t.runId}`;
  const rest = pin.pinned.ref.startsWith(head) ? pin.pinned.ref.slice(head.length) : '';
  const out = [...rest.matchAll(/#([^#:\s]+):try(\d+)/g)].map((m) => ({
    taskId: m[1] as string,
    tryNumber: Number(m[2]),
  }));
  if (out.length === 0 && t.taskId) return [{ taskId: t.taskId, tryNumber: 0 }];
  return out;
}

/** The request body of `POST …/dags/{dag_id}/clearTaskInstances` (same keys in Airflow 2 and 3). */
export function clearBody(runId: string, taskIds: string[], dryRun: boolean): Record<string, unknown> {
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
  const body = clearBody(t.runId, [...new Set(tries.map((x) => x.taskId))], dryRun);
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
  const items = res.data.task_instances.map(
    (ti) => `${ti.task_id}${ti.map_index != null && ti.map_index >= 0 ? `[${ti.map_index}]` : ''}`,
  );
  return ok({ items, tries, runId: t.runId });
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

async function followTask(client: AirflowClient, t: AirflowTarget, runId: string, f: FailedTry) {
  const ti = await client.get(tiPath(t.dagId, runId, f.taskId), TaskInstance);
  if (ti.status !== 'ok') return ti;
  const state = ti.data.state ?? 'none';
  const newTry = ti.data.try_number > f.tryNumber;
  const outcome: RerunProgress['state'] =
    newTry && state === 'success'
      ? 'succeeded'
      : newTry && /failed|shutdown/.test(state)
        ? 'failed'
        : 'running';
  return ok({ outcome, line: `${f.taskId}: ${state} (try ${ti.data.try_number})` });
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
    const tries = z
      .array(z.object({ taskId: z.string(), tryNumber: z.number() }))
      .safeParse(started.handle.tries ?? failedTries(pin));
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
