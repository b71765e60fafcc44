import pg from 'pg';
import { redact } from '../../core/redact.ts';
import type { AdapterContext } from '../types.ts';
import type { DbtSnapshot, ScopedNode, TableProfile } from './schema.ts';

/** Tables profiled per investigation. */
const MAX_TABLES = 6;
/** Columns with nulls/min/max per table. */
const MAX_STAT_COLUMNS = 8;
const SAMPLE_ROWS = 20;
const MAX_CELL = 120;
const PROFILED_KINDS = new Set(['model', 'seed', 'snapshot', 'source']);

/** What to profile: a relation, the columns involved, and optionally a failing test's own SQL. */
export interface ProfileRequest {
  nodeId: string;
  relation: string;
  columns: string[];
  testSql?: string;
}

/** Splits `"db"."schema"."table"` / `db.schema.table` / backticked names into [schema, table]. */
export function parseRelation(relation: string): { schema?: string; table: string } | undefined {
  const parts = [...relation.matchAll(/"((?:[^"]|"")*)"|`([^`]*)`|([^."`\s]+)/g)].map(
    (m) => m[1]?.replace(/""/g, '"') ?? m[2] ?? m[3] ?? '',
  );
  const table = parts.at(-1);
  if (!table) return undefined;
  const schema = parts.length >= 2 ? parts.at(-2) : undefined;
  return { table, ...(schema ? { schema } : {}) };
}

/** Quotes one identifier for PostgreSQL (doubles embedded quotes). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const qualified = (r: { schema?: string; table: string }) =>
  r.schema ? `${quoteIdent(r.schema)}.${quoteIdent(r.table)}` : quoteIdent(r.table);

function cell(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return redact(s.length > MAX_CELL ? `${s.slice(0, MAX_CELL)}…` : s);
}

const rowOf = (r: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, cell(v)]));

/** Plain words for a PostgreSQL error: the timeout, a missing grant, a missing table. */
export function describePgError(err: unknown, what: string, timeoutMs: number): string {
  const e = err as { code?: string; message?: string };
  if (e.code === '57014') return `${what}: cut by the statement timeout after ${timeoutMs} ms`;
  if (e.code === '42501') return `${what}: the warehouse role has no SELECT on it (${e.message})`;
  if (e.code === '42P01') return `${what}: the relation does not exist in the warehouse (${e.message})`;
  return `${what}: ${redact(e.message ?? String(err))}${e.code ? ` (SQLSTATE ${e.code})` : ''}`;
}

/** Runs one query inside `BEGIN READ ONLY` with `SET LOCAL statement_timeout`; rolls back on error. */
async function readOnly(
  client: pg.Client,
  timeoutMs: number,
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult> {
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
    // Extended protocol: one statement only, so SQL from artifacts cannot smuggle a second one.
    const config = { text: sql, values: params, queryMode: 'extended' } as pg.QueryConfig;
    const r: pg.QueryResult = await client.query(config);
    await client.query('COMMIT');
    return r;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

const NO_MINMAX = /json|array|bytea|xml|tsvector|user-defined|point|box|polygon|line|circle/i;

async function profileOne(client: pg.Client, req: ProfileRequest, timeoutMs: number): Promise<TableProfile> {
  const out: TableProfile = { nodeId: req.nodeId, relation: req.relation, gaps: [] };
  const rel = parseRelation(req.relation);
  if (!rel) return { ...out, gaps: [`${req.relation}: not a relation name`] };
  const q = qualified(rel);
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      out.gaps.push(describePgError(err, `${req.relation} ${what}`, timeoutMs));
      return undefined;
    }
  };
  const cols = await step('schema', () =>
    readOnly(
      client,
      timeoutMs,
      `select column_name, data_type from information_schema.columns
       where table_name = $1 and ($2::text is null or table_schema = $2) order by ordinal_position limit 500`,
      [rel.table, rel.schema ?? null],
    ),
  );
  if (cols) out.columns = cols.rows.map((r) => ({ name: String(r.column_name), type: String(r.data_type) }));
  const count = await step('row count', () =>
    readOnly(client, timeoutMs, `select count(*)::bigint as n from ${q}`),
  );
  if (count) out.rowCount = Number(count.rows[0]?.n ?? 0);
  const sample = await step('sample', () =>
    readOnly(client, timeoutMs, `select * from ${q} limit ${SAMPLE_ROWS}`),
  );
  if (sample) out.sample = sample.rows.map(rowOf);
  await statsOf(client, req, out, q, timeoutMs, step);
  if (req.testSql) {
    const body = req.testSql.trim().replace(/;\s*$/, '');
    const rows = await step('failing rows (the test query)', () =>
      readOnly(client, timeoutMs, `select * from (\n${body}\n) as heal_failing_rows limit ${SAMPLE_ROWS}`),
    );
    if (rows) out.failingRows = rows.rows.map(rowOf);
  }
  return out;
}

async function statsOf(
  client: pg.Client,
  req: ProfileRequest,
  out: TableProfile,
  q: string,
  timeoutMs: number,
  step: <T>(what: string, fn: () => Promise<T>) => Promise<T | undefined>,
): Promise<void> {
  const known = new Map((out.columns ?? []).map((c) => [c.name.toLowerCase(), c]));
  const chosen = req.columns
    .map((c) => known.get(c.toLowerCase()))
    .filter((c): c is { name: string; type: string } => c !== undefined)
    .slice(0, MAX_STAT_COLUMNS);
  if (!chosen.length) return;
  const exprs = chosen.flatMap((c, i) => {
    const id = quoteIdent(c.name);
    const mm = NO_MINMAX.test(c.type) ? ['null', 'null'] : [`min(${id})::text`, `max(${id})::text`];
    return [`count(*) filter (where ${id} is null) as n${i}`, `${mm[0]} as lo${i}`, `${mm[1]} as hi${i}`];
  });
  const r = await step('column stats', () =>
    readOnly(client, timeoutMs, `select ${exprs.join(', ')} from ${q}`),
  );
  const row = r?.rows[0];
  if (!row) return;
  out.stats = chosen.map((c, i) => ({
    column: c.name,
    nulls: Number(row[`n${i}`] ?? 0),
    min: cell(row[`lo${i}`]),
    max: cell(row[`hi${i}`]),
  }));
}

/**
 * Bounded, read-only profiles of tables: schema, row count, a 20-row sample, nulls/min/max of the
 * columns involved, and a failing test's rows. Every failure (timeout, missing grant, unreachable
 * warehouse) becomes a gap; nothing throws.
 */
export async function profileTables(
  url: string,
  timeoutMs: number,
  requests: ProfileRequest[],
  gaps: string[],
): Promise<TableProfile[]> {
  if (!requests.length) return [];
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: Math.max(timeoutMs, 1000) });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    gaps.push(`Warehouse unreachable: ${describePgError(err, 'connect', timeoutMs)}`);
    return [];
  }
  try {
    const out: TableProfile[] = [];
    for (const req of requests.slice(0, MAX_TABLES)) {
      const p = await profileOne(client, req, timeoutMs);
      gaps.push(...p.gaps.map((g) => `Warehouse: ${g}`));
      out.push(p);
    }
    return out;
  } finally {
    await client.end().catch(() => {});
  }
}

const IDENT_IN_MESSAGE = /["'`]?([A-Za-z_][\w]*)["'`]?/g;

function involvedColumns(s: DbtSnapshot, n: ScopedNode): string[] {
  const cols = new Set<string>();
  for (const x of Object.values(s.nodes))
    if (x.test?.column && (x.attachedNode === n.uniqueId || x.dependsOn.includes(n.uniqueId)))
      cols.add(x.test.column);
  const msgs = s.results
    .filter((r) => r.message && s.nodes[r.uniqueId]?.role === 'failing')
    .map((r) => r.message ?? '');
  for (const m of msgs) for (const w of m.matchAll(IDENT_IN_MESSAGE)) if (w[1]) cols.add(w[1]);
  for (const c of n.columns) cols.add(c.name);
  return [...cols];
}

/** Profile requests for the snapshot's scope: failing tables and their inputs first, tests' tables via the test. */
export function profileRequests(s: DbtSnapshot): ProfileRequest[] {
  const order = { failing: 0, input: 1, downstream: 2 } as const;
  const nodes = Object.values(s.nodes).sort((a, b) => order[a.role] - order[b.role]);
  const reqs: ProfileRequest[] = [];
  for (const n of nodes) {
    if (n.role === 'downstream') continue;
    if (n.resourceType === 'test') {
      const target = n.attachedNode ?? n.dependsOn[0];
      const t = target ? s.nodes[target] : undefined;
      const failed = s.results.some((r) => r.uniqueId === n.uniqueId && /fail|warn/.test(r.status));
      if (t?.relationName && failed)
        reqs.push({
          nodeId: t.uniqueId,
          relation: t.relationName,
          columns: involvedColumns(s, t),
          ...(n.compiledSql ? { testSql: n.compiledSql } : {}),
        });
      continue;
    }
    if (PROFILED_KINDS.has(n.resourceType) && n.relationName && !reqs.some((r) => r.nodeId === n.uniqueId))
      reqs.push({ nodeId: n.uniqueId, relation: n.relationName, columns: involvedColumns(s, n) });
  }
  return reqs.slice(0, MAX_TABLES);
}

/** Profiles the snapshot's scope with HEAL_WAREHOUSE_URL (PostgreSQL only). */
export async function profileScope(
  s: DbtSnapshot,
  ctx: AdapterContext,
  gaps: string[],
): Promise<TableProfile[]> {
  const url = ctx.config.HEAL_WAREHOUSE_URL;
  if (!url) return [];
  if (s.adapterType && !/postgres|redshift/i.test(s.adapterType))
    gaps.push(
      `The project runs on ${s.adapterType}; warehouse profiling only speaks PostgreSQL and may not find these tables.`,
    );
  return profileTables(url, ctx.config.HEAL_WAREHOUSE_TIMEOUT_MS, profileRequests(s), gaps);
}
