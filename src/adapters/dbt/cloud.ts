import { z } from 'zod';
import { noData, ok, type Upstream, upstreamError } from '../../core/upstream.ts';
import { openUrl, parseJsonBody } from '../http.ts';
import type { AdapterContext } from '../types.ts';
import { filterLogText, historyRun } from './artifacts.ts';
import type { RawRun } from './collect.ts';
import { type CloudRun, type HistoryRun, Manifest, RunResults, Sources } from './schema.ts';

/** Previous runs of the same job read as history. */
const MAX_HISTORY_RUNS = 8;

/** dbt Cloud run statuses (Admin API v2). */
const RUN_STATUS: Record<number, string> = {
  1: 'Queued',
  2: 'Starting',
  3: 'Running',
  10: 'Success',
  20: 'Error',
  30: 'Cancelled',
};

const idString = z.union([z.number(), z.string()]).transform(String);

export const CloudRunStep = z.looseObject({
  id: idString.optional().catch(undefined),
  name: z.string().catch('step'),
  status: z.number().nullish().catch(undefined),
  status_humanized: z.string().nullish().catch(undefined),
  logs: z.string().nullish().catch(undefined),
  index: z.number().nullish().catch(undefined),
});

export const CloudRunData = z.looseObject({
  id: idString,
  job_definition_id: idString.nullish().catch(undefined),
  status: z.number().nullish().catch(undefined),
  status_humanized: z.string().nullish().catch(undefined),
  git_sha: z.string().nullish().catch(undefined),
  git_branch: z.string().nullish().catch(undefined),
  href: z.string().nullish().catch(undefined),
  is_error: z.boolean().nullish().catch(undefined),
  run_steps: z.array(CloudRunStep).nullish().catch(undefined),
});
export type CloudRunData = z.infer<typeof CloudRunData>;

/** The Admin API v2 envelope: `{ status: {...}, data: ... }`. */
const envelope = <S extends z.ZodType>(data: S) =>
  z.looseObject({
    status: z.looseObject({ code: z.number().optional(), is_success: z.boolean().optional() }).optional(),
    data,
  });

/** A configured dbt Cloud Admin API v2 client (bearer token). */
export interface DbtCloudClient {
  base: string;
  accountId: string;
  get<S extends z.ZodType>(path: string, schema: S, what: string): Promise<Upstream<z.output<S>>>;
}

/** The client from DBT_CLOUD_URL / DBT_CLOUD_ACCOUNT_ID (or the account in a run URL) / DBT_CLOUD_TOKEN. */
export function cloudClient(ctx: AdapterContext, runUrl?: string): Upstream<DbtCloudClient> {
  const c = ctx.config;
  const accountId = c.DBT_CLOUD_ACCOUNT_ID ?? runUrl?.match(/\/deploy\/(\d+)\//)?.[1];
  const missing = [
    c.DBT_CLOUD_URL ? '' : 'DBT_CLOUD_URL',
    accountId ? '' : 'DBT_CLOUD_ACCOUNT_ID',
    c.DBT_CLOUD_TOKEN ? '' : 'DBT_CLOUD_TOKEN',
  ].filter(Boolean);
  if (missing.length || !c.DBT_CLOUD_URL || !accountId)
    return upstreamError(`dbt Cloud is not configured: set ${missing.join(', ')}`, false);
  const base = c.DBT_CLOUD_URL.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${c.DBT_CLOUD_TOKEN}` };
  return ok({
    base,
    accountId,
    async get(path, schema, what) {
      const url = `${base}/api/v2/accounts/${encodeURIComponent(accountId)}${path}`;
      const opened = await openUrl(url, `dbt Cloud ${what}`, ctx, 'application/json', { headers });
      if (!opened.ok) return opened.result;
      return parseJsonBody(opened.res, `dbt Cloud ${what}`, schema, ctx);
    },
  });
}

const runPath = (runId: string) => `/runs/${encodeURIComponent(runId)}/`;

/** GET a run with its steps and job. */
export async function getRun(client: DbtCloudClient, runId: string): Promise<Upstream<CloudRunData>> {
  const include = encodeURIComponent('["run_steps","job"]');
  const r = await client.get(
    `${runPath(runId)}?include_related=${include}`,
    envelope(CloudRunData.nullable()),
    `run ${runId}`,
  );
  if (r.status !== 'ok') return r;
  if (!r.data.data) return noData(`dbt Cloud run ${runId}: empty response`);
  return ok(r.data.data);
}

/**
 * An artifact of a run (raw artifact JSON; an enveloped body is unwrapped). Without `step` dbt Cloud answers
 * with the last step's file; `step` is the 1-based `index` of one of the run's `run_steps`.
 */
export async function getArtifact<S extends z.ZodType>(
  client: DbtCloudClient,
  runId: string,
  path: string,
  schema: S,
  step?: number,
): Promise<Upstream<z.output<S>>> {
  const loose = z.union([envelope(schema).transform((e) => e.data), schema]);
  const query = step === undefined ? '' : `?step=${step}`;
  return client.get(
    `${runPath(runId)}artifacts/${path}${query}`,
    loose,
    `artifact ${path}${step === undefined ? '' : ` (step ${step})`} of run ${runId}`,
  ) as Promise<Upstream<z.output<S>>>;
}

/** A run step whose artifacts are read. */
export interface ArtifactStep {
  index: number;
  name: string;
  status?: string;
}

type Step = z.infer<typeof CloudRunStep>;
const FRESHNESS_STEP = /\bsource\s+freshness\b/i;
const NODE_STEP = /\bdbt\s+(?:build|run|test|seed|snapshot|retry)\b/i;
const stepErrored = (s: Step) => s.status === 20 || /^error$/i.test(s.status_humanized ?? '');
const asArtifactStep = (s: Step & { index: number }): ArtifactStep => ({
  index: s.index,
  name: s.name.slice(0, 200),
  ...(stepStatus(s) ? { status: stepStatus(s) } : {}),
});

function stepStatus(s: Step): string | undefined {
  if (s.status_humanized) return s.status_humanized;
  return s.status != null ? (RUN_STATUS[s.status] ?? String(s.status)) : undefined;
}

/**
 * The steps whose artifacts tell what happened: run_results.json and manifest.json of the step that errored
 * (else of the last step that ran nodes), sources.json of the `dbt source freshness` step. Undefined: no such
 * step is known (no `run_steps`), and the default (last step) file is read.
 */
export function artifactSteps(run: CloudRunData): { results?: ArtifactStep; sources?: ArtifactStep } {
  const steps = (run.run_steps ?? [])
    .filter((s): s is Step & { index: number } => typeof s.index === 'number')
    .sort((a, b) => a.index - b.index);
  const invokes = steps.filter((s) => /\bdbt\b/i.test(s.name) && !FRESHNESS_STEP.test(s.name));
  const results = invokes.filter(stepErrored).at(-1) ?? invokes.filter((s) => NODE_STEP.test(s.name)).at(-1);
  const sources = steps.filter((s) => FRESHNESS_STEP.test(s.name)).at(-1);
  return {
    ...(results ? { results: asArtifactStep(results) } : {}),
    ...(sources ? { sources: asArtifactStep(sources) } : {}),
  };
}

/** One artifact of a step; when that step has no such file, the run's default (last step) one, said in a gap. */
async function stepArtifact<S extends z.ZodType>(
  client: DbtCloudClient,
  runId: string,
  path: string,
  schema: S,
  step: ArtifactStep | undefined,
  gaps: string[],
): Promise<{ result: Upstream<z.output<S>>; step?: ArtifactStep }> {
  if (!step) return { result: await getArtifact(client, runId, path, schema) };
  const result = await getArtifact(client, runId, path, schema, step.index);
  if (result.status !== 'no_data') return { result, step };
  gaps.push(
    `${path} of step ${step.index} (${step.name}) not found: read the run's last-step ${path} instead`,
  );
  return { result: await getArtifact(client, runId, path, schema) };
}

/** Previous runs of the same job (newest first), excluding this one. */
export async function previousRuns(
  client: DbtCloudClient,
  jobId: string,
  runId: string,
): Promise<Upstream<CloudRunData[]>> {
  const q = `?job_definition_id=${encodeURIComponent(jobId)}&order_by=-id&limit=${MAX_HISTORY_RUNS + 1}`;
  const r = await client.get(`/runs/${q}`, envelope(z.array(CloudRunData)), `runs of job ${jobId}`);
  if (r.status !== 'ok') return r;
  return ok(
    r.data.data
      .filter((x) => x.id !== runId && (x.status === undefined || x.status === 10))
      .slice(0, MAX_HISTORY_RUNS),
  );
}

export function statusName(run: CloudRunData): string | undefined {
  return run.status_humanized ?? (run.status != null ? RUN_STATUS[run.status] : undefined);
}

function cloudRunOf(run: CloudRunData): CloudRun {
  return {
    runId: run.id,
    ...(run.job_definition_id ? { jobId: run.job_definition_id } : {}),
    ...(run.git_sha ? { gitSha: run.git_sha } : {}),
    ...(run.git_branch ? { gitBranch: run.git_branch } : {}),
    ...(statusName(run) ? { status: statusName(run) } : {}),
    ...(run.href ? { href: run.href } : {}),
    steps: (run.run_steps ?? []).slice(0, 20).map((s) => ({
      name: s.name.slice(0, 200),
      ...(stepStatus(s) ? { status: stepStatus(s) } : {}),
      lines: s.logs ? filterLogText(s.logs) : [],
    })),
  };
}

async function cloudHistory(
  client: DbtCloudClient,
  run: CloudRunData,
  gaps: string[],
): Promise<HistoryRun[]> {
  if (!run.job_definition_id) return [];
  const prev = await previousRuns(client, run.job_definition_id, run.id);
  if (prev.status !== 'ok') {
    gaps.push(`Previous runs of job ${run.job_definition_id}: ${prev.message}`);
    return [];
  }
  const out: HistoryRun[] = [];
  for (const p of prev.data) {
    const rr = await getArtifact(client, p.id, 'run_results.json', RunResults);
    if (rr.status === 'ok') out.push({ ...historyRun(`run ${p.id}`, rr.data) });
  }
  return out;
}

/** Which artifacts were read from a given step, for the evidence. */
function stepsRead(
  read: Record<string, { result: Upstream<unknown>; step?: ArtifactStep }>,
): NonNullable<CloudRun['artifactSteps']> {
  return Object.entries(read).flatMap(([file, at]) =>
    at.step && at.result.status === 'ok' ? [{ file, ...at.step }] : [],
  );
}

/** A dbt Cloud run as a raw run: the run and its step logs, artifacts and previous runs as history. */
export async function collectCloud(
  runId: string,
  url: string | undefined,
  ctx: AdapterContext,
  gaps: string[],
): Promise<RawRun> {
  const client = cloudClient(ctx, url);
  const ref = `dbt Cloud run ${runId}`;
  if (client.status !== 'ok') {
    gaps.push(client.message);
    return { origin: 'cloud', ref, history: [] };
  }
  const c = client.data;
  const run = await getRun(c, runId);
  if (run.status !== 'ok') {
    gaps.push(run.message);
    return { origin: 'cloud', ref, history: [] };
  }
  const wanted = artifactSteps(run.data);
  const [rrAt, mfAt, srcAt] = await Promise.all([
    stepArtifact(c, runId, 'run_results.json', RunResults, wanted.results, gaps),
    stepArtifact(c, runId, 'manifest.json', Manifest, wanted.results, gaps),
    stepArtifact(c, runId, 'sources.json', Sources, wanted.sources, gaps),
  ]);
  const [rr, mf, src] = [rrAt.result, mfAt.result, srcAt.result];
  if (rr.status !== 'ok') gaps.push(rr.message);
  if (mf.status !== 'ok') gaps.push(`${mf.message} (no lineage, columns or compiled SQL)`);
  if (src.status === 'error') gaps.push(src.message);
  const history = await cloudHistory(c, run.data, gaps);
  const fromSteps = stepsRead({ 'run_results.json': rrAt, 'manifest.json': mfAt, 'sources.json': srcAt });
  const cloud = { ...cloudRunOf(run.data), ...(fromSteps.length ? { artifactSteps: fromSteps } : {}) };
  return {
    origin: 'cloud',
    ref: `${c.base}/api/v2/accounts/${c.accountId}${runPath(runId)}`,
    ...(rr.status === 'ok' ? { runResults: rr.data } : {}),
    ...(mf.status === 'ok' ? { manifest: mf.data } : {}),
    ...(src.status === 'ok' ? { sources: src.data } : {}),
    history,
    cloud,
  };
}
