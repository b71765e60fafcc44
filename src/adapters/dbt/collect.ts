import { dirname } from 'node:path';
import { redact } from '../../core/redact.ts';
import type { AdapterContext, PinResult } from '../types.ts';
import { readCompiledSql, readDbtLog, readHistory, readTargetDir } from './artifacts.ts';
import { collectCloud } from './cloud.ts';
import { allowedLocalPath } from './roots.ts';
import {
  type CloudRun,
  type DbtSnapshot,
  type FreshnessResult,
  type HistoryRun,
  type LogLine,
  type Manifest,
  type NodeRun,
  type RunResults,
  type Sources,
  schemaVersionGaps,
} from './schema.ts';
import { childMap, lookup, scopedNode, scopeIds } from './scope.ts';
import { judgeVolume, rowsOf } from './volume.ts';
import { profileScope } from './warehouse.ts';

/** Everything read for one invocation, before it is compacted into a snapshot. */
export interface RawRun {
  origin: DbtSnapshot['origin'];
  ref: string;
  runResults?: RunResults;
  manifest?: Manifest;
  sources?: Sources;
  history: HistoryRun[];
  log?: { ref: string; lines: LogLine[] };
  cloud?: CloudRun;
  /** Local target dir, to read compiled SQL from. */
  targetDir?: string;
}

const MAX_MESSAGE = 4000;

export function compactResults(rr: RunResults | undefined, adapterType?: string): NodeRun[] {
  return (rr?.results ?? []).map((r) => {
    const rows = rowsOf(r.adapter_response, adapterType);
    const msg = r.message ?? undefined;
    return {
      uniqueId: r.unique_id,
      status: r.status,
      ...(msg ? { message: redact(msg).slice(0, MAX_MESSAGE) } : {}),
      ...(r.failures !== undefined ? { failures: r.failures } : {}),
      ...(rows !== undefined ? { rows } : {}),
      ...(r.adapter_response?._message ? { adapterMessage: r.adapter_response._message } : {}),
      ...(typeof r.execution_time === 'number' ? { executionTime: r.execution_time } : {}),
    };
  });
}

const period = (p?: { count?: number | null; period?: string | null } | null) =>
  p?.count && p.period ? `${p.count} ${p.period}` : undefined;

export function freshnessOf(s: Sources | undefined): FreshnessResult[] {
  return (s?.results ?? []).map((r) => {
    const warn = period(r.criteria?.warn_after);
    const err = period(r.criteria?.error_after);
    const e = r.error ?? r.message ?? undefined;
    return {
      uniqueId: r.unique_id,
      status: r.status,
      ...(r.max_loaded_at ? { maxLoadedAt: r.max_loaded_at } : {}),
      ...(r.snapshotted_at ? { snapshottedAt: r.snapshotted_at } : {}),
      ...(typeof r.max_loaded_at_time_ago_in_s === 'number'
        ? { ageSeconds: r.max_loaded_at_time_ago_in_s }
        : {}),
      ...(warn ? { warnAfter: warn } : {}),
      ...(err ? { errorAfter: err } : {}),
      ...(e ? { error: redact(e).slice(0, 1000) } : {}),
    };
  });
}

/** Models whose volume is empty or collapsed against history (scoped as failing). */
export function silentIds(results: NodeRun[], history: HistoryRun[]): string[] {
  return results
    .filter((r) => r.status === 'success' && r.rows !== undefined)
    .filter((r) => {
      const past = history.flatMap((h) =>
        h.rows[r.uniqueId] === undefined ? [] : [h.rows[r.uniqueId] as number],
      );
      return judgeVolume(r.rows as number, past) !== undefined;
    })
    .map((r) => r.uniqueId);
}

/** `--vars` of the invocation as flat strings (a dict, or dbt's YAML/JSON string form). */
export function varsOf(args: Record<string, unknown> | null | undefined): Record<string, string> {
  const v = args?.vars;
  let obj: unknown = v;
  if (typeof v === 'string') {
    try {
      obj = JSON.parse(v);
    } catch {
      obj = Object.fromEntries(
        [...v.matchAll(/([\w-]+)\s*:\s*['"]?([^,'"}]+)['"]?/g)].map((m) => [m[1], (m[2] ?? '').trim()]),
      );
    }
  }
  if (!obj || typeof obj !== 'object') return {};
  return Object.fromEntries(
    Object.entries(obj as Record<string, unknown>)
      .slice(0, 30)
      .map(([k, x]) => [k, redact(typeof x === 'string' ? x : JSON.stringify(x)).slice(0, 200)]),
  );
}

function commandOf(args: Record<string, unknown> | null | undefined): string | undefined {
  const c = args?.invocation_command ?? args?.which;
  return typeof c === 'string' ? redact(c).slice(0, 300) : undefined;
}

/** Compacts a raw run into the snapshot the rules read: results, scoped nodes, freshness, history. */
export async function buildSnapshot(raw: RawRun): Promise<DbtSnapshot> {
  const rr = raw.runResults;
  const m = raw.manifest;
  const adapterType = m?.metadata.adapter_type ?? undefined;
  const results = compactResults(rr, adapterType);
  const freshness = freshnessOf(raw.sources);
  const roles = scopeIds(m, results, freshness, silentIds(results, raw.history));
  const children = m ? childMap(m) : {};
  const nodes: DbtSnapshot['nodes'] = {};
  for (const [id, role] of roles) {
    const n = lookup(m, id);
    if (!n) continue;
    const compiled =
      raw.targetDir && role !== 'downstream' ? await readCompiledSql(raw.targetDir, n) : undefined;
    nodes[id] = scopedNode(n, role, children[id] ?? [], compiled);
  }
  const meta = rr?.metadata;
  return {
    origin: raw.origin,
    ref: raw.ref,
    ...opt('invocationId', meta?.invocation_id ?? m?.metadata.invocation_id),
    ...opt('dbtVersion', meta?.dbt_version ?? m?.metadata.dbt_version),
    ...opt('schemaVersion', meta?.dbt_schema_version),
    ...opt('adapterType', adapterType),
    ...opt('projectName', m?.metadata.project_name),
    ...opt('generatedAt', meta?.generated_at),
    ...opt('startedAt', meta?.invocation_started_at),
    ...opt('command', commandOf(rr?.args)),
    vars: varsOf(rr?.args),
    results,
    nodes,
    macros: Object.values(m?.macros ?? {})
      .filter((x) => x && x.package_name === (m?.metadata.project_name ?? x.package_name))
      .map((x) => x?.name ?? '')
      .slice(0, 300),
    freshness,
    history: raw.history,
    log: raw.log?.lines ?? [],
    ...opt('logRef', raw.log?.ref),
    ...(raw.cloud ? { cloud: raw.cloud } : {}),
    warehouse: [],
  };
}

function opt<K extends string>(key: K, v: string | null | undefined): Partial<Record<K, string>> {
  return v ? ({ [key]: v } as Record<K, string>) : {};
}

/**
 * Reads a local target/ dir: artifacts, history next to it, logs/dbt.log. `mayRead` says whether a sibling
 * folder (history/, logs/) may be read: under HEAL_DBT_ROOTS only, unless a human typed the path.
 */
export async function readLocal(
  dir: string,
  gaps: string[],
  mayRead: (path: string) => Promise<boolean> = async () => true,
): Promise<RawRun> {
  const art = await readTargetDir(dir);
  gaps.push(...art.gaps);
  const parent = dirname(art.dir);
  const siblings = await mayRead(parent);
  if (!siblings)
    gaps.push(
      'history/ and logs/ next to target/ were not read: they lie outside HEAL_DBT_ROOTS (list the project folder, not target/).',
    );
  const history = siblings
    ? await readHistory(
        art.dir,
        art.runResults?.metadata.invocation_id ?? undefined,
        art.manifest?.metadata.adapter_type ?? undefined,
        gaps,
      )
    : [];
  if (siblings && !history.length)
    gaps.push(
      'No history of previous invocations (<target>/../history/): volumes cannot be compared with past runs.',
    );
  const log = siblings ? await readDbtLog(art.dir) : undefined;
  if (siblings && !log) gaps.push('logs/dbt.log next to target/ was not found.');
  return {
    origin: 'local',
    ref: art.dir,
    ...(art.runResults ? { runResults: art.runResults } : {}),
    ...(art.manifest ? { manifest: art.manifest } : {}),
    ...(art.sources ? { sources: art.sources } : {}),
    history,
    ...(log ? { log: { ref: log.path, lines: log.lines } } : {}),
    targetDir: art.dir,
  };
}

/** A local target/ dir, after the roots check (pin already checked it; symlinks may change in between). */
async function readAllowedLocal(path: string, ctx: AdapterContext, gaps: string[]): Promise<RawRun> {
  const check = await allowedLocalPath(path, ctx);
  if (!check.ok) {
    gaps.push(check.reason);
    return { origin: 'local', ref: 'refused local path', history: [] };
  }
  const mayRead = async (p: string) => (await allowedLocalPath(p, ctx)).ok;
  return readLocal(check.path, gaps, mayRead);
}

/**
 * Collects one pinned dbt invocation (local target dir or dbt Cloud run), scopes it and, when a
 * PostgreSQL warehouse is configured, profiles the tables in scope. Never throws for upstream problems.
 */
export async function collectDbt(
  pin: PinResult,
  ctx: AdapterContext,
): Promise<{ snapshot: DbtSnapshot; gaps: string[] }> {
  const t = pin.target;
  if (t.platform !== 'dbt') throw new Error(`collectDbt got a ${t.platform} target`);
  const gaps: string[] = [];
  const raw = t.cloudRunId
    ? await collectCloud(t.cloudRunId, t.url, ctx, gaps)
    : await readAllowedLocal(t.path ?? '.', ctx, gaps);
  gaps.push(...schemaVersionGaps(raw));
  const snapshot = await buildSnapshot(raw);
  if (!pin.pinned.codeRef)
    gaps.push(
      'Code is unpinned: no git SHA is recorded for this invocation, so the exact model code cannot be tied to a commit.',
    );
  if (ctx.config.HEAL_WAREHOUSE_URL) snapshot.warehouse = await profileScope(snapshot, ctx, gaps);
  else gaps.push('No warehouse configured (HEAL_WAREHOUSE_URL): tables in scope were not profiled.');
  return { snapshot, gaps: [...new Set(gaps)] };
}
