import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { errorMessage } from '../../core/errors.ts';
import { noData, ok, type Upstream, upstreamError } from '../../core/upstream.ts';
import { zodProblem } from '../http.ts';
import { LogFilter } from '../logs.ts';
import { type HistoryRun, type LogLine, Manifest, RunResults, Sources, schemaVersionNote } from './schema.ts';
import { type StreamPlan, streamArtifact } from './stream-artifact.ts';
import { PLANS } from './stream-plans.ts';
import { rowsOf } from './volume.ts';

/** Previous invocations read from the history folder. */
const MAX_HISTORY = 14;
/** Bytes of dbt.log read (its tail, where the run's summary and errors are). */
const MAX_LOG_BYTES = 8 * 1024 * 1024;

/** Lines of a dbt log worth keeping: errors, warnings, failures, skips and the final summary. */
export const DBT_LOG_PATTERNS = [
  /\[(?:error|warn)\s*\]/i,
  /\b(?:ERROR|FAIL|WARN|SKIP)\b/,
  /Database Error|Compilation Error|Runtime Error|Parsing Error/i,
  /\bDone\. PASS=|Completed with|Finished running/,
  /rows?_affected|\bSELECT 0\b|\bINSERT 0 0\b/i,
];

/** Parses JSON text with a schema; failures name the artifact. */
export function parseArtifact<S extends z.ZodType>(
  text: string,
  what: string,
  schema: S,
): Upstream<z.output<S>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return upstreamError(`${what} is not valid JSON (${err instanceof Error ? err.message : err})`, false);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return ok(parsed.data);
  const version = (json as { metadata?: { dbt_schema_version?: unknown } } | null)?.metadata
    ?.dbt_schema_version;
  const note = schemaVersionNote(what, typeof version === 'string' ? version : undefined);
  return upstreamError(
    `${what} has an unexpected shape: ${zodProblem(parsed.error)}${note ? ` (${note})` : ''}`,
    false,
  );
}

/**
 * Largest artifact read at all: past it the file is not opened (a gap). Streaming keeps memory bounded
 * below it (src/adapters/dbt/stream-artifact.ts); the cap bounds the time spent tokenising.
 */
export const MAX_STREAMED_BYTES = 2 * 1024 * 1024 * 1024;
/** Smaller files are parsed whole (faster); bigger ones are streamed and cut down. */
const WHOLE_BYTES = 16 * 1024 * 1024;

/** Reads and parses one artifact file; a missing file is no_data, a broken one an error. */
export async function readArtifact<S extends z.ZodType>(
  path: string,
  schema: S,
  plan?: StreamPlan,
): Promise<Upstream<z.output<S>> & { notes?: string[] }> {
  const name = basename(path);
  try {
    const info = await stat(path);
    if (info.size > MAX_STREAMED_BYTES)
      return upstreamError(`${name} is larger than ${MAX_STREAMED_BYTES} bytes; not read`, false);
    if (!plan || info.size <= WHOLE_BYTES) return parseArtifact(await readFile(path, 'utf8'), name, schema);
    return await streamed(path, name, schema, plan);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') return noData(`${name} does not exist`);
    return upstreamError(`${name} could not be read (${code ?? errorMessage(err)})`, false);
  }
}

async function streamed<S extends z.ZodType>(
  path: string,
  name: string,
  schema: S,
  plan: StreamPlan,
): Promise<Upstream<z.output<S>> & { notes?: string[] }> {
  let out: Awaited<ReturnType<typeof streamArtifact>>;
  try {
    out = await streamArtifact(path, plan, name);
  } catch (err) {
    return upstreamError(`${name} is not valid JSON (${errorMessage(err)})`, false);
  }
  const parsed = schema.safeParse(out.value);
  if (!parsed.success)
    return upstreamError(`${name} has an unexpected shape: ${zodProblem(parsed.error)}`, false);
  return { ...ok(parsed.data), notes: out.notes };
}

export interface LocalArtifacts {
  dir: string;
  runResults?: RunResults;
  manifest?: Manifest;
  sources?: Sources;
  gaps: string[];
}

/** Reads run_results.json, manifest.json and sources.json of a target/ directory. */
export async function readTargetDir(dir: string): Promise<LocalArtifacts> {
  const abs = resolve(dir);
  // One after the other: three big artifacts tokenised at once would triple the peak.
  const rr = await readArtifact(join(abs, 'run_results.json'), RunResults, PLANS.runResults);
  const mf = await readArtifact(join(abs, 'manifest.json'), Manifest, PLANS.manifest);
  const src = await readArtifact(join(abs, 'sources.json'), Sources, PLANS.sources);
  const gaps: string[] = [...(rr.notes ?? []), ...(mf.notes ?? []), ...(src.notes ?? [])];
  if (rr.status !== 'ok') gaps.push(`run_results.json: ${rr.message}`);
  if (mf.status !== 'ok') gaps.push(`manifest.json: ${mf.message} (no lineage, columns or compiled SQL)`);
  if (src.status === 'error') gaps.push(`sources.json: ${src.message}`);
  return {
    dir: abs,
    ...(rr.status === 'ok' ? { runResults: rr.data } : {}),
    ...(mf.status === 'ok' ? { manifest: mf.data } : {}),
    ...(src.status === 'ok' ? { sources: src.data } : {}),
    gaps,
  };
}

/** Row counts and statuses of one previous invocation's run_results. */
export function historyRun(id: string, rr: RunResults, adapterType?: string): HistoryRun {
  const rows: Record<string, number> = {};
  const statuses: Record<string, string> = {};
  for (const r of rr.results) {
    statuses[r.unique_id] = r.status;
    const n = rowsOf(r.adapter_response, adapterType);
    if (n !== undefined && r.status === 'success') rows[r.unique_id] = n;
  }
  return {
    id,
    ...(rr.metadata.generated_at ? { generatedAt: rr.metadata.generated_at } : {}),
    rows,
    statuses,
  };
}

/**
 * Previous invocations kept in `<target>/../history/<invocation_id>/run_results.json`, newest first,
 * excluding the current one. Unreadable entries are skipped with a gap.
 */
export async function readHistory(
  targetDir: string,
  currentId: string | undefined,
  adapterType: string | undefined,
  gaps: string[],
): Promise<HistoryRun[]> {
  const root = join(dirname(resolve(targetDir)), 'history');
  let entries: string[];
  try {
    entries = (await readdir(root, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
  const runs: HistoryRun[] = [];
  for (const name of entries.sort().slice(-200)) {
    if (name === currentId) continue;
    const rr = await readArtifact(join(root, name, 'run_results.json'), RunResults, PLANS.runResults);
    if (rr.status === 'ok')
      runs.push(historyRun(rr.data.metadata.invocation_id ?? name, rr.data, adapterType));
    else if (rr.status === 'error') gaps.push(`history ${name}: ${rr.message}`);
  }
  return runs
    .filter((r) => r.id !== currentId)
    .sort((a, b) => (b.generatedAt ?? '').localeCompare(a.generatedAt ?? ''))
    .slice(0, MAX_HISTORY);
}

/** Filters text (a log) into the kept lines. */
export function filterLogText(text: string): LogLine[] {
  const f = new LogFilter({ patterns: DBT_LOG_PATTERNS, context: 4, maxLines: 120, maxLineChars: 500 });
  f.push(text);
  f.end();
  return f.lines();
}

/** `logs/dbt.log` next to target/ (as dbt writes it), filtered, its tail only when huge. */
export async function readDbtLog(targetDir: string): Promise<{ path: string; lines: LogLine[] } | undefined> {
  const path = join(dirname(resolve(targetDir)), 'logs', 'dbt.log');
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return undefined;
  }
  const start = Math.max(0, size - MAX_LOG_BYTES);
  const f = new LogFilter({ patterns: DBT_LOG_PATTERNS, context: 4, maxLines: 120, maxLineChars: 500 });
  await new Promise<void>((done, fail) => {
    const s = createReadStream(path, { start, encoding: 'utf8' });
    s.on('data', (chunk) => f.push(String(chunk)));
    s.on('end', () => done());
    s.on('error', fail);
  }).catch(() => undefined);
  f.end();
  return { path, lines: f.lines() };
}

/**
 * Compiled (or run) SQL of a node from `target/compiled|run/…`, following the manifest's
 * `compiled_path` (relative to the project) or the package + original file path.
 */
export async function readCompiledSql(
  targetDir: string,
  node: { compiled_path?: string | null; package_name?: string | null; original_file_path?: string | null },
): Promise<{ sql: string; path: string } | undefined> {
  const candidates: string[] = [];
  const cp = node.compiled_path ?? '';
  const at = cp.indexOf('compiled/');
  if (at >= 0) {
    const rel = cp.slice(at + 'compiled/'.length);
    candidates.push(join(targetDir, 'run', rel), join(targetDir, 'compiled', rel));
  }
  if (node.package_name && node.original_file_path)
    for (const kind of ['run', 'compiled'])
      candidates.push(join(targetDir, kind, node.package_name, node.original_file_path));
  for (const path of candidates) {
    if (!resolve(path).startsWith(resolve(targetDir))) continue;
    try {
      const sql = await readFile(path, 'utf8');
      return {
        sql: sql.slice(0, 64 * 1024),
        path: `${basename(targetDir)}/${path.slice(resolve(targetDir).length + 1)}`,
      };
    } catch {}
  }
  return undefined;
}
