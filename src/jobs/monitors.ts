import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { connectAirflow } from '../adapters/airflow/client.ts';
import { cloudClient, previousRuns } from '../adapters/dbt/cloud.ts';
import type { AdapterContext } from '../adapters/types.ts';
import { type Config, ConfigError } from '../core/config.ts';
import { type Target, targetKey } from '../core/target.ts';
import type { Upstream } from '../core/upstream.ts';
import { collectStep, diagnoseStep, pinStep } from '../diagnosis/investigate.ts';
import type { IncidentStore } from './incidents.ts';
import type { InvestigateJobData } from './queue.ts';

const Every = z.union([z.number().int().min(10_000), z.string().regex(/^\d+(ms|s|m|h)$/)]).transform((v) => {
  if (typeof v === 'number') return v;
  const [, n, unit] = v.match(/^(\d+)(ms|s|m|h)$/) ?? [];
  return Number(n) * ({ ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit as 'ms'] ?? 1);
});

const Base = {
  id: z.string().regex(/^[\w.-]{1,64}$/),
  every: Every.default(900_000),
  channel: z.string().optional(),
};

/** One silent-failure monitor (HEAL_MONITORS_FILE, `monitors:` list). */
export const Monitor = z.discriminatedUnion('kind', [
  /** A local dbt project's target/ dir (history under ../history/<invocation_id>/). */
  z.object({ ...Base, kind: z.literal('dbt'), targetDir: z.string().min(1) }),
  /** A dbt Cloud job: its latest successful run. */
  z.object({ ...Base, kind: z.literal('dbt-cloud'), jobId: z.coerce.string().min(1) }),
  /** Airflow DAGs: each one's latest successful DAG run (dbt runs it launched are followed). */
  z.object({ ...Base, kind: z.literal('airflow'), dagIds: z.array(z.string().min(1)).min(1) }),
]);
export type Monitor = z.infer<typeof Monitor>;

export function loadMonitors(file: string | undefined): Monitor[] {
  if (!file) return [];
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`HEAL_MONITORS_FILE: cannot read ${file}: ${(err as Error).message}`]);
  }
  const parsed = z.object({ monitors: z.array(Monitor).default([]) }).safeParse(raw ?? {});
  if (!parsed.success)
    throw new ConfigError(
      parsed.error.issues.map((i) => `HEAL_MONITORS_FILE: ${i.path.join('.')}: ${i.message}`),
    );
  return parsed.data.monitors;
}

const SCHEDULER_PREFIX = 'monitor:';

/** One BullMQ job scheduler per monitor (`monitor:<id>`); schedulers of removed monitors are dropped. */
export async function upsertMonitorSchedulers(queue: Queue, monitors: Monitor[]): Promise<void> {
  const wanted = new Set(monitors.map((m) => `${SCHEDULER_PREFIX}${m.id}`));
  for (const s of await queue.getJobSchedulers(0, -1)) {
    const key = (s as { key?: string }).key;
    if (key?.startsWith(SCHEDULER_PREFIX) && !wanted.has(key)) await queue.removeJobScheduler(key);
  }
  for (const m of monitors)
    await queue.upsertJobScheduler(
      `${SCHEDULER_PREFIX}${m.id}`,
      { every: m.every },
      { name: 'monitor', data: { monitorId: m.id }, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
}

/** A successful run a monitor has not checked yet: its target and a stable run identity. */
interface RunToCheck {
  target: Target;
  runKey: string;
}

const RunResultsHead = z.looseObject({
  metadata: z.looseObject({ invocation_id: z.string().optional(), generated_at: z.string().optional() }),
  results: z.array(z.looseObject({ status: z.string() })),
});

function latestLocal(targetDir: string): Upstream<RunToCheck | null> {
  let rr: z.infer<typeof RunResultsHead>;
  try {
    rr = RunResultsHead.parse(JSON.parse(readFileSync(join(targetDir, 'run_results.json'), 'utf8')));
  } catch (err) {
    return { status: 'error', message: `run_results.json: ${(err as Error).message}`, retryable: true };
  }
  // A run with errors or failing tests is an alert of its own; monitors look at runs that "succeeded".
  if (rr.results.some((r) => !['success', 'pass', 'skipped', 'warn'].includes(r.status)))
    return { status: 'ok', data: null };
  const runKey = rr.metadata.invocation_id ?? rr.metadata.generated_at ?? 'unknown';
  return { status: 'ok', data: { target: { platform: 'dbt', path: targetDir }, runKey } };
}

async function latestRuns(m: Monitor, ctx: AdapterContext): Promise<Upstream<RunToCheck[]>> {
  if (m.kind === 'dbt') {
    const r = latestLocal(m.targetDir);
    return r.status === 'ok' ? { status: 'ok', data: r.data ? [r.data] : [] } : r;
  }
  if (m.kind === 'dbt-cloud') {
    const client = cloudClient(ctx);
    if (client.status !== 'ok') return client;
    const runs = await previousRuns(client.data, m.jobId, '');
    if (runs.status !== 'ok') return runs;
    return {
      status: 'ok',
      data: runs.data.slice(0, 1).map((r) => ({
        target: { platform: 'dbt', cloudRunId: String(r.id) },
        runKey: String(r.id),
      })),
    };
  }
  return latestDagRuns(m.dagIds, ctx);
}

const DagRuns = z.looseObject({ dag_runs: z.array(z.looseObject({ dag_run_id: z.string() })) });

async function latestDagRuns(dagIds: string[], ctx: AdapterContext): Promise<Upstream<RunToCheck[]>> {
  const client = await connectAirflow(ctx);
  if (client.status !== 'ok') return client;
  const out: RunToCheck[] = [];
  for (const dagId of dagIds) {
    const order = client.data.major === 3 ? 'order_by=-run_after' : 'order_by=-execution_date';
    const r = await client.data.get(
      `/dags/${encodeURIComponent(dagId)}/dagRuns?state=success&${order}&limit=1`,
      DagRuns,
    );
    if (r.status !== 'ok') return r;
    for (const run of r.data.dag_runs.slice(0, 1))
      out.push({ target: { platform: 'airflow', dagId, runId: run.dag_run_id }, runKey: run.dag_run_id });
  }
  return { status: 'ok', data: out };
}

export interface MonitorDeps {
  config: Config;
  ctx: AdapterContext;
  redis: Redis;
  incidents: IncidentStore;
  enqueue(data: InvestigateJobData): Promise<void>;
}

/** Incident id of a monitor finding: per run (a target dir is the same path every night). */
export function monitorIncidentId(target: Target, runKey: string): string {
  return `inc_${createHash('sha256')
    .update(`monitor:${targetKey(target)}:${runKey}`)
    .digest('hex')
    .slice(0, 16)}`;
}

export type MonitorResult = { checked: number; opened: string[]; problems: string[] };

/**
 * One tick of a monitor: each new successful run is diagnosed with the platform rules; a silent failure
 * (`silent.*`: empty output, volume collapse against history) opens a thread, resuming from the stored
 * diagnosis so the worker only publishes it.
 */
export async function runMonitor(m: Monitor, deps: MonitorDeps): Promise<MonitorResult> {
  const result: MonitorResult = { checked: 0, opened: [], problems: [] };
  const runs = await latestRuns(m, deps.ctx);
  if (runs.status !== 'ok') return { ...result, problems: [runs.message] };
  for (const run of runs.data) {
    const seenKey = `${deps.config.HEAL_QUEUE_PREFIX}:monitor:${m.id}:seen:${targetKey(run.target)}`;
    if ((await deps.redis.get(seenKey)) === run.runKey) continue;
    result.checked++;
    const opened = await checkRun(m, run, deps);
    if (opened.status !== 'ok') {
      result.problems.push(opened.message);
      continue;
    }
    await deps.redis.set(seenKey, run.runKey, 'EX', 30 * 24 * 3600);
    if (opened.data) result.opened.push(opened.data);
  }
  return result;
}

async function checkRun(m: Monitor, run: RunToCheck, deps: MonitorDeps): Promise<Upstream<string | null>> {
  const channel = m.channel ?? deps.config.HEAL_WEBHOOK_CHANNEL ?? deps.config.HEAL_ALERT_CHANNELS[0];
  if (!channel) return { status: 'error', message: `monitor ${m.id}: no channel`, retryable: false };
  const pin = await pinStep(run.target, deps.ctx);
  if (pin.status !== 'ok') return pin.status === 'no_data' ? { status: 'ok', data: null } : pin;
  const incidentId = monitorIncidentId(run.target, run.runKey);
  const collection = await collectStep(pin.data, deps.ctx);
  const report = diagnoseStep(incidentId, pin.data, collection);
  if (!report.rootCause?.category.startsWith('silent.')) return { status: 'ok', data: null };
  const target = pin.data.target;
  const claim = await deps.incidents.claim({ incidentId, target, channel, source: 'alert' });
  if (!claim.claimed) return { status: 'ok', data: null };
  await deps.incidents.checkpoint(incidentId, 'pinned', { pin: pin.data });
  await deps.incidents.checkpoint(incidentId, 'collected', { collection });
  await deps.incidents.checkpoint(incidentId, 'diagnosed', { report });
  await deps.enqueue({ incidentId, target, channel, source: 'alert' });
  deps.ctx.log.info(
    { monitor: m.id, incidentId, category: report.rootCause.category },
    'silent failure found',
  );
  return { status: 'ok', data: incidentId };
}
