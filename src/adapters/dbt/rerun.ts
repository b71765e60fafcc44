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
import { CloudRunData, cloudClient, type DbtCloudClient, getRun, statusName } from './cloud.ts';

const ERROR = 20;
const SUCCESS = 10;
const CANCELLED = 30;

const Envelope = <S extends z.ZodType>(data: S) => z.looseObject({ data });

type DbtTarget = Extract<Target, { platform: 'dbt' }>;

/** The pinned run and its job, checked to still be the job's latest run (rerun acts on the latest one). */
async function pinnedJobRun(
  client: DbtCloudClient,
  runId: string,
): Promise<Upstream<{ run: CloudRunData; jobId: string }>> {
  const run = await getRun(client, runId);
  if (run.status !== 'ok') return run;
  const jobId = run.data.job_definition_id;
  if (!jobId)
    return noData(`dbt Cloud run ${runId} belongs to no job: there is nothing to rerun from failure`);
  if (run.data.status !== ERROR)
    return noData(
      `dbt Cloud run ${runId} is ${statusName(run.data) ?? 'not failed'}: only a failed run is rerun`,
    );
  const q = `?job_definition_id=${encodeURIComponent(jobId)}&order_by=-id&limit=1`;
  const latest = await client.get(
    `/runs/${q}`,
    Envelope(z.array(CloudRunData)),
    `latest run of job ${jobId}`,
  );
  if (latest.status !== 'ok') return latest;
  const newest = latest.data.data[0];
  if (newest && newest.id !== runId)
    return noData(
      `job ${jobId} has a newer run (${newest.id}, ${statusName(newest) ?? 'status unknown'}): rerun from failure would act on it, not on the pinned run ${runId}`,
    );
  return ok({ run: run.data, jobId });
}

function clientFor(pin: PinResult, ctx: AdapterContext): Upstream<{ client: DbtCloudClient; runId: string }> {
  const t = pin.target as DbtTarget;
  if (t.platform !== 'dbt' || !t.cloudRunId) return upstreamError('not a dbt Cloud run', false);
  const client = cloudClient(ctx, t.url);
  return client.status === 'ok' ? ok({ client: client.data, runId: t.cloudRunId }) : client;
}

function failedSteps(run: CloudRunData): string[] {
  return (run.run_steps ?? []).filter((s) => s.status === ERROR).map((s) => s.name);
}

const Rerun = Envelope(z.looseObject({ id: z.union([z.number(), z.string()]).transform(String) }));

/** `POST /api/v2/accounts/{account}/jobs/{job}/rerun/`: dbt Cloud's "retry from failure" of the job's latest run. */
async function postRerun(client: DbtCloudClient, jobId: string, ctx: AdapterContext) {
  const url = `${client.base}/api/v2/accounts/${encodeURIComponent(client.accountId)}/jobs/${encodeURIComponent(jobId)}/rerun/`;
  const what = `dbt Cloud: POST jobs/${jobId}/rerun/`;
  const opened = await openUrl(url, what, ctx, 'application/json', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ctx.config.DBT_CLOUD_TOKEN ?? ''}`,
      'content-type': 'application/json',
    },
    body: '{}',
  });
  if (!opened.ok) return opened.result;
  return parseJsonBody(opened.res, what, Rerun, ctx);
}

/** dbt Cloud: rerun the job from the point of failure, only while the pinned run is the job's latest. */
export const dbtRerun: RerunCapability = {
  supports(target) {
    if (target.platform !== 'dbt') return { ok: false, why: 'not a dbt target' };
    if (!target.cloudRunId)
      return {
        ok: false,
        why: 'this is a local dbt target/ dir: Heal has no dbt Cloud job to rerun (run `dbt retry` in the project)',
      };
    return { ok: true, what: 'rerun the dbt Cloud job from the point of failure' };
  },

  async preview(pin, ctx): Promise<Upstream<RerunPlan>> {
    const c = clientFor(pin, ctx);
    if (c.status !== 'ok') return c;
    const r = await pinnedJobRun(c.data.client, c.data.runId);
    if (r.status !== 'ok') return r;
    const steps = failedSteps(r.data.run);
    return ok({
      items: steps.length ? steps : [`run ${c.data.runId}`],
      summary: `rerunning job ${r.data.jobId} from the failure of run ${c.data.runId} repeats what errored or was skipped`,
    });
  },

  async execute(pin, ctx): Promise<Upstream<RerunStarted>> {
    const c = clientFor(pin, ctx);
    if (c.status !== 'ok') return c;
    const r = await pinnedJobRun(c.data.client, c.data.runId);
    if (r.status !== 'ok') return r;
    const res = await postRerun(c.data.client, r.data.jobId, ctx);
    if (res.status !== 'ok') return res;
    const newRun = res.data.data.id;
    return ok({
      items: [`run ${newRun}`],
      summary: `job ${r.data.jobId} rerun from failure as run ${newRun}`,
      handle: { runId: newRun },
    });
  },

  async follow(pin, started, ctx): Promise<Upstream<RerunProgress>> {
    const c = clientFor(pin, ctx);
    if (c.status !== 'ok') return c;
    const runId = typeof started.handle.runId === 'string' ? started.handle.runId : '';
    if (!runId) return upstreamError('rerun handle is not a dbt Cloud run', false);
    const run = await getRun(c.data.client, runId);
    if (run.status !== 'ok') return run;
    const s = run.data.status;
    const state = s === SUCCESS ? 'succeeded' : s === ERROR || s === CANCELLED ? 'failed' : 'running';
    return ok({ state, summary: `run ${runId}: ${statusName(run.data) ?? 'status unknown'}` });
  },
};
