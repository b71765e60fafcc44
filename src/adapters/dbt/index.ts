import type { Target } from '../../core/target.ts';
import { noData, ok, type Upstream, upstreamError } from '../../core/upstream.ts';
import type { AdapterContext, Collection, PinResult, PipelineAdapter } from '../types.ts';
import { readArtifact } from './artifacts.ts';
import { artifactSteps, cloudClient, getArtifact, getRun, statusName } from './cloud.ts';
import { collectDbt } from './collect.ts';
import { buildEvidence } from './evidence.ts';
import { dbtRerun } from './rerun.ts';
import { allowedLocalPath } from './roots.ts';
import { dbtRules } from './rules.ts';
import { type DbtSnapshot, RunResults } from './schema.ts';

const GIT_SHA_KEY = /git[_-]?(?:sha|commit)|commit[_-]?sha/i;

/** A git sha recorded in the artifacts' metadata.env (DBT_ENV_CUSTOM_ENV_*), if any. */
function shaFromEnv(env: Record<string, unknown> | null | undefined): string | null {
  for (const [k, v] of Object.entries(env ?? {}))
    if (GIT_SHA_KEY.test(k) && typeof v === 'string' && /^[0-9a-f]{7,40}$/i.test(v)) return v;
  return null;
}

async function pinLocal(
  target: Extract<Target, { platform: 'dbt' }>,
  path: string,
  ctx: AdapterContext,
): Promise<Upstream<PinResult>> {
  const allowed = await allowedLocalPath(path, ctx);
  if (!allowed.ok) return upstreamError(allowed.reason, false);
  const dir = allowed.path;
  const rr = await readArtifact(`${dir}/run_results.json`, RunResults);
  if (rr.status === 'no_data')
    return noData(`No dbt run_results.json in ${dir}: is this a target/ directory of a run?`);
  if (rr.status === 'error') return upstreamError(rr.message, false);
  const id = rr.data.metadata.invocation_id;
  return ok({
    pinned: {
      ref: id ? `invocation ${id}` : `${dir} (no invocation_id)`,
      codeRef: shaFromEnv(rr.data.metadata.env),
      dataRef: rr.data.metadata.generated_at ?? null,
      deterministic: false,
    },
    target: { ...target, path: dir },
  });
}

async function pinCloud(
  target: Extract<Target, { platform: 'dbt' }>,
  runId: string,
  ctx: AdapterContext,
): Promise<Upstream<PinResult>> {
  const client = cloudClient(ctx, target.url);
  if (client.status !== 'ok') return client;
  const run = await getRun(client.data, runId);
  if (run.status !== 'ok') return run;
  // Pin the errored step's invocation, not the last step's (often `docs generate`).
  const step = artifactSteps(run.data).results?.index;
  const rr = await getArtifact(client.data, runId, 'run_results.json', RunResults, step);
  const inv = rr.status === 'ok' ? rr.data.metadata.invocation_id : undefined;
  return ok({
    pinned: {
      ref: `dbt Cloud run ${runId}${inv ? ` / invocation ${inv}` : ''} (${statusName(run.data) ?? 'status unknown'})`,
      codeRef: run.data.git_sha ?? null,
      dataRef: rr.status === 'ok' ? (rr.data.metadata.generated_at ?? null) : null,
      deterministic: false,
    },
    target,
  });
}

/**
 * Pins a dbt target: a local target/ dir to its invocation_id (codeRef only when the artifacts record a
 * git sha), a dbt Cloud run to its run id, invocation_id and git_sha.
 */
export function pinDbt(target: Target, ctx: AdapterContext): Promise<Upstream<PinResult>> {
  if (target.platform !== 'dbt')
    return Promise.resolve(upstreamError(`not a dbt target: ${target.platform}`, false));
  if (target.cloudRunId) return pinCloud(target, target.cloudRunId, ctx);
  if (target.path) return pinLocal(target, target.path, ctx);
  return Promise.resolve(upstreamError('a dbt target needs a target/ path or a dbt Cloud run id', false));
}

/** dbt (local artifacts or dbt Cloud, plus bounded PostgreSQL profiling): pin, collect, rules. */
export const dbtAdapter = {
  platform: 'dbt',
  pin: pinDbt,
  async collect(pin: PinResult, ctx: AdapterContext): Promise<Collection<DbtSnapshot>> {
    const { snapshot, gaps } = await collectDbt(pin, ctx);
    const { evidence, evidenceIndex } = buildEvidence(snapshot, gaps);
    return { evidence, evidenceIndex, gaps, facts: snapshot };
  },
  rules(collection: Collection<DbtSnapshot>, pin: PinResult) {
    return dbtRules(collection, pin);
  },
  rerun: dbtRerun,
} satisfies PipelineAdapter<DbtSnapshot>;
