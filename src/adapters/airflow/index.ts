import type { Target } from '../../core/target.ts';
import { noData, ok, type Upstream, upstreamError } from '../../core/upstream.ts';
import type {
  AdapterContext,
  Collection,
  Finding,
  Link,
  PinResult,
  PipelineAdapter,
  RuleOutcome,
} from '../types.ts';
import { type AirflowClient, connectAirflow, runPath, tiLabel } from './client.ts';
import { collectSnapshot, listTaskInstances } from './collect.ts';
import { buildEvidence } from './evidence.ts';
import { FAILED_STATES } from './graph.ts';
import { findLinks } from './links.ts';
import { airflowRerun } from './rerun.ts';
import { airflowRules } from './rules.ts';
import { type AirflowSnapshot, Dag, DagRun, DagRunCollection } from './schema.ts';

const sameInstant = (a: string | null | undefined, b: string) =>
  !!a && (a === b || Date.parse(a) === Date.parse(b));

/** The dag run for a target: by run id, or (old-UI log URLs) by logical date. */
async function findRun(
  client: AirflowClient,
  t: Extract<Target, { platform: 'airflow' }>,
): Promise<Upstream<DagRun>> {
  const dag = encodeURIComponent(t.dagId);
  if (t.runId) {
    const r = await client.get(runPath(t.dagId, t.runId), DagRun);
    if (r.status === 'no_data')
      return noData(
        `DAG run ${t.runId} of ${t.dagId} not found on Airflow at ${client.base} (${r.message})`,
        404,
      );
    return r;
  }
  const date = encodeURIComponent(t.logicalDate ?? '');
  const field = client.major === 3 ? 'logical_date' : 'execution_date';
  const list = await client.get(
    `/dags/${dag}/dagRuns?${field}_gte=${date}&${field}_lte=${date}&limit=100`,
    DagRunCollection,
  );
  if (list.status !== 'ok') return list;
  const found = list.data.dag_runs.find((r) =>
    sameInstant(r.logical_date ?? r.execution_date, t.logicalDate ?? ''),
  );
  return found
    ? ok(found)
    : noData(`No run of ${t.dagId} with logical date ${t.logicalDate} on Airflow at ${client.base}`);
}

/**
 * Pins an Airflow target to its dag_run_id and the try numbers of its failed tasks (plus the DAG
 * version / bundle version Airflow 3 reports, and the DAG file location).
 */
export async function pinAirflow(target: Target, ctx: AdapterContext): Promise<Upstream<PinResult>> {
  if (target.platform !== 'airflow') return upstreamError(`not an Airflow target: ${target.platform}`, false);
  const conn = await connectAirflow(ctx);
  if (conn.status !== 'ok') return conn;
  const client = conn.data;
  const run = await findRun(client, target);
  if (run.status !== 'ok') return run;
  const runId = run.data.dag_run_id;
  const [tis, dag] = await Promise.all([
    listTaskInstances(client, target.dagId, runId),
    client.get(`/dags/${encodeURIComponent(target.dagId)}`, Dag),
  ]);
  const failed = tis.status === 'ok' ? tis.data.items.filter((t) => FAILED_STATES.has(t.state ?? '')) : [];
  // `#load[140]:try2` for a mapped instance: the rerun clears exactly these instances.
  const tries = failed.map((t) => `#${tiLabel(t.task_id, t.map_index)}:try${t.try_number}`).join('');
  const v = run.data.dag_versions?.at(-1);
  const version = v?.version_number ? `@v${v.version_number}` : '';
  const bundle = v?.bundle_version ?? run.data.bundle_version;
  const file = dag.status === 'ok' ? (dag.data.fileloc ?? dag.data.relative_fileloc) : undefined;
  const codeRef = [
    file,
    bundle ? `bundle ${bundle}` : '',
    v?.version_number ? `dag version ${v.version_number}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const { logicalDate: _ld, ...rest } = target;
  return ok({
    pinned: {
      ref: `${target.dagId}/${runId}${version}${tries}`,
      codeRef: codeRef || null,
      dataRef: run.data.logical_date ?? run.data.execution_date ?? null,
      deterministic: false,
    },
    target: { ...rest, runId },
  });
}

/**
 * A mapped task's culprit names its failed instance (`load[140]`): the rules reason per task id, the
 * snapshot knows which map index failed.
 */
export function nameMappedCulprits(outcome: RuleOutcome, s: AirflowSnapshot): RuleOutcome {
  const named = (f: Finding): Finding => {
    const c = f.culprit;
    const index = c?.kind === 'task' ? s.failedMapIndexes?.[c.id]?.[0] : undefined;
    return c && index !== undefined ? { ...f, culprit: { ...c, id: tiLabel(c.id, index) } } : f;
  };
  return { ...outcome, findings: outcome.findings.map(named) };
}

/** Airflow 2 and 3 over the REST API: pin, collect (snapshot, evidence, links), deterministic rules. */
export const airflowAdapter = {
  platform: 'airflow',
  pin: pinAirflow,
  async collect(pin: PinResult, ctx: AdapterContext): Promise<Collection<AirflowSnapshot>> {
    const { snapshot, gaps } = await collectSnapshot(pin, ctx);
    const { evidence, evidenceIndex } = buildEvidence(snapshot, gaps);
    const links: Link[] = findLinks(snapshot, evidenceIndex);
    return { evidence, evidenceIndex, gaps, facts: snapshot, ...(links.length ? { links } : {}) };
  },
  rules(collection: Collection<AirflowSnapshot>, pin: PinResult) {
    return nameMappedCulprits(airflowRules(collection, pin), collection.facts);
  },
  rerun: airflowRerun,
} satisfies PipelineAdapter<AirflowSnapshot>;
