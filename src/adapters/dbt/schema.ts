import { z } from 'zod';
import type { LogLine } from '../logs.ts';

export type { LogLine };

/*
 * dbt artifacts, only the fields Heal reads, as loose objects: run_results v4–v6, manifest v10–v12,
 * sources v3 (schemas in ../shared/corpus/dbt/schemas). Older and newer versions parse as long as
 * these fields keep their shape (and are named in a gap: schemaVersionNote); anything odd in a single
 * field degrades to undefined, never a throw.
 */

const str = z.string().nullish().catch(undefined);
const num = z.number().nullish().catch(undefined);

/** `failures` is a number, null, or (in some broken writers) a string. */
const failures = z
  .union([z.number(), z.string(), z.null()])
  .optional()
  .transform((v) => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null))
  .catch(null);

export const AdapterResponse = z
  .looseObject({ _message: str, code: str, rows_affected: num, bytes_processed: num })
  .nullish()
  .catch(undefined);
export type AdapterResponse = z.infer<typeof AdapterResponse>;

export const RunResult = z.looseObject({
  unique_id: z.string(),
  status: z.string(),
  message: str,
  failures,
  execution_time: num,
  adapter_response: AdapterResponse,
  compiled_code: str,
  /** v4 and older wrote compiled SQL here. */
  compiled_sql: str,
  relation_name: str,
});
export type RunResult = z.infer<typeof RunResult>;

export const ArtifactMetadata = z.looseObject({
  dbt_schema_version: str,
  dbt_version: str,
  generated_at: str,
  invocation_id: str,
  invocation_started_at: str,
  env: z.record(z.string(), z.unknown()).nullish().catch(undefined),
  adapter_type: str,
  project_name: str,
});

export const RunResults = z.looseObject({
  metadata: ArtifactMetadata,
  results: z.array(RunResult),
  elapsed_time: num,
  args: z.record(z.string(), z.unknown()).nullish().catch(undefined),
});
export type RunResults = z.infer<typeof RunResults>;

const Column = z.looseObject({ name: z.string().catch(''), data_type: str });

const DependsOn = z
  .looseObject({
    nodes: z.array(z.string()).catch([]).default([]),
    macros: z.array(z.string()).catch([]).default([]),
  })
  .catch({ nodes: [], macros: [] })
  .default({ nodes: [], macros: [] });

export const ManifestNode = z.looseObject({
  unique_id: z.string(),
  resource_type: z.string(),
  name: z.string(),
  package_name: str,
  original_file_path: str,
  database: str,
  schema: str,
  alias: str,
  relation_name: str,
  depends_on: DependsOn,
  columns: z.record(z.string(), Column).catch({}).default({}),
  config: z
    .looseObject({ materialized: str, severity: str, enabled: z.boolean().nullish().catch(undefined) })
    .catch({})
    .default({}),
  test_metadata: z
    .looseObject({ name: z.string(), kwargs: z.record(z.string(), z.unknown()).catch({}).default({}) })
    .nullish()
    .catch(undefined),
  column_name: str,
  attached_node: str,
  compiled_code: str,
  compiled_sql: str,
  compiled_path: str,
  raw_code: str,
  /** Sources only. */
  source_name: str,
  loader: str,
  loaded_at_field: str,
  identifier: str,
});
export type ManifestNode = z.infer<typeof ManifestNode>;

export const Manifest = z.looseObject({
  metadata: ArtifactMetadata,
  nodes: z.record(z.string(), ManifestNode.nullable().catch(null)).catch({}).default({}),
  sources: z.record(z.string(), ManifestNode.nullable().catch(null)).catch({}).default({}),
  macros: z
    .record(z.string(), z.looseObject({ name: z.string(), package_name: str }).nullable().catch(null))
    .catch({})
    .default({}),
  child_map: z.record(z.string(), z.array(z.string())).nullish().catch(undefined),
  parent_map: z.record(z.string(), z.array(z.string())).nullish().catch(undefined),
});
export type Manifest = z.infer<typeof Manifest>;

const Period = z.looseObject({ count: num, period: str }).nullish().catch(undefined);

export const SourceFreshness = z.looseObject({
  unique_id: z.string(),
  status: z.string(),
  max_loaded_at: str,
  snapshotted_at: str,
  max_loaded_at_time_ago_in_s: num,
  criteria: z.looseObject({ warn_after: Period, error_after: Period }).nullish().catch(undefined),
  error: str,
  message: str,
});
export type SourceFreshness = z.infer<typeof SourceFreshness>;

export const Sources = z.looseObject({ metadata: ArtifactMetadata, results: z.array(SourceFreshness) });
export type Sources = z.infer<typeof Sources>;

/** Artifact schema versions Heal knows, by file: `https://schemas.getdbt.com/dbt/<kind>/v<N>.json`. */
const KNOWN_VERSIONS: Record<string, { kind: string; min: number; max: number }> = {
  'run_results.json': { kind: 'run-results', min: 4, max: 6 },
  'manifest.json': { kind: 'manifest', min: 10, max: 12 },
  'sources.json': { kind: 'sources', min: 3, max: 3 },
};

/**
 * A gap note when an artifact's `metadata.dbt_schema_version` is older or newer than Heal knows (it is still
 * parsed: the schemas are loose). Undefined for a known version, an unknown file, or no recognisable version.
 */
export function schemaVersionNote(file: string, version: string | null | undefined): string | undefined {
  const known = KNOWN_VERSIONS[file];
  const v = Number(version?.match(/\/dbt\/([a-z-]+)\/v(\d+)\.json\s*$/i)?.[2] ?? Number.NaN);
  if (!known || !Number.isInteger(v) || (v >= known.min && v <= known.max)) return undefined;
  const range = known.min === known.max ? `v${known.min}` : `v${known.min}–v${known.max}`;
  return `${file} is schema v${v}, ${v > known.max ? 'newer' : 'older'} than Heal knows (${range}): fields may be missed`;
}

/** Gap notes for every read artifact of an invocation whose schema version Heal does not know. */
export function schemaVersionGaps(artifacts: {
  runResults?: RunResults;
  manifest?: Manifest;
  sources?: Sources;
}): string[] {
  const read: Array<[string, { metadata: { dbt_schema_version?: string | null } } | undefined]> = [
    ['run_results.json', artifacts.runResults],
    ['manifest.json', artifacts.manifest],
    ['sources.json', artifacts.sources],
  ];
  return read.flatMap(([file, a]) => {
    const note = a ? schemaVersionNote(file, a.metadata.dbt_schema_version) : undefined;
    return note ? [note] : [];
  });
}

/* ---------- The snapshot: the contract between collection and rules (JSON, bounded). ---------- */

/** One node result of the run, compacted. */
export interface NodeRun {
  uniqueId: string;
  status: string;
  message?: string;
  failures?: number | null;
  /** rows_affected when the adapter reports real counts (not views, not Snowflake's `SUCCESS 1`). */
  rows?: number;
  adapterMessage?: string;
  executionTime?: number;
}

/** A manifest node in scope, compacted. */
export interface ScopedNode {
  uniqueId: string;
  resourceType: string;
  name: string;
  /** Why it is in scope: failing, input (direct parent of a failing node) or downstream (direct child). */
  role: 'failing' | 'input' | 'downstream';
  dependsOn: string[];
  children: string[];
  relationName?: string;
  materialized?: string;
  severity?: string;
  columns: Array<{ name: string; type?: string }>;
  test?: { name: string; column?: string; kwargs: Record<string, string> };
  attachedNode?: string;
  /** Compiled SQL (bounded) from target/compiled or the manifest. */
  compiledSql?: string;
  compiledRef?: string;
  originalFile?: string;
  loader?: string;
  loadedAtField?: string;
}

export interface FreshnessResult {
  uniqueId: string;
  status: string;
  maxLoadedAt?: string;
  snapshottedAt?: string;
  ageSeconds?: number;
  warnAfter?: string;
  errorAfter?: string;
  error?: string;
}

/** Row counts per model of one previous invocation. */
export interface HistoryRun {
  id: string;
  generatedAt?: string;
  rows: Record<string, number>;
  statuses: Record<string, string>;
}

export interface CloudRun {
  runId: string;
  jobId?: string;
  gitSha?: string;
  gitBranch?: string;
  status?: string;
  href?: string;
  steps: Array<{ name: string; status?: string; lines: LogLine[] }>;
  /** Artifacts read from a given run step (`?step=<index>`) rather than the run's last step. */
  artifactSteps?: Array<{ file: string; index: number; name: string; status?: string }>;
}

/** Bounded read-only profile of one warehouse table (see warehouse.ts). */
export interface TableProfile {
  nodeId: string;
  relation: string;
  columns?: Array<{ name: string; type: string }>;
  rowCount?: number;
  sample?: Array<Record<string, string | null>>;
  stats?: Array<{ column: string; nulls: number; min: string | null; max: string | null }>;
  /** Rows returned by the failing test's own query (bounded), when it is a test. */
  failingRows?: Array<Record<string, string | null>>;
  gaps: string[];
}

/** Everything the dbt rules read: one invocation, scoped. JSON-serialisable. */
export interface DbtSnapshot {
  /** `local` target dir or `cloud` run. */
  origin: 'local' | 'cloud';
  /** Where artifacts came from: a directory or an API path. */
  ref: string;
  invocationId?: string;
  dbtVersion?: string;
  schemaVersion?: string;
  adapterType?: string;
  projectName?: string;
  generatedAt?: string;
  startedAt?: string;
  command?: string;
  vars: Record<string, string>;
  results: NodeRun[];
  nodes: Record<string, ScopedNode>;
  /** Macro names defined in the project (for undefined-macro hints). */
  macros: string[];
  freshness: FreshnessResult[];
  history: HistoryRun[];
  log: LogLine[];
  logRef?: string;
  cloud?: CloudRun;
  warehouse: TableProfile[];
}
