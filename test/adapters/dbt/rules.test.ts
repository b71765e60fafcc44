import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArtifact } from '../../../src/adapters/dbt/artifacts.ts';
import { buildSnapshot, type RawRun, readLocal } from '../../../src/adapters/dbt/collect.ts';
import { buildEvidence } from '../../../src/adapters/dbt/evidence.ts';
import { classifyMessage } from '../../../src/adapters/dbt/rules/classify.ts';
import { dbtRules } from '../../../src/adapters/dbt/rules.ts';
import { Manifest, RunResults, Sources } from '../../../src/adapters/dbt/schema.ts';
import { scopeIds } from '../../../src/adapters/dbt/scope.ts';
import { rowsOf } from '../../../src/adapters/dbt/volume.ts';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'dbt');
const SCEN = join(import.meta.dirname, '..', '..', 'scenarios');
const fixture = (f: string) => readFileSync(join(FIX, f), 'utf8');
const pin = {
  pinned: { ref: 'x', codeRef: null, dataRef: null, deterministic: false },
  target: { platform: 'dbt' as const, path: '.' },
};

async function diagnose(raw: RawRun) {
  const snap = await buildSnapshot(raw);
  const { evidence, evidenceIndex } = buildEvidence(snap, []);
  return { snap, out: dbtRules({ evidence, evidenceIndex, gaps: [], facts: snap }, pin) };
}
const local = (name: string) => readLocal(join(SCEN, name, 'files', 'target'), []);
const top = (o: { findings: Array<{ status: string; category: string; culprit?: { id: string } }> }) =>
  o.findings.find((f) => f.status === 'confirmed');
const clone = <T>(x: T): T => structuredClone(x);

describe('artifact parsing across schema versions', () => {
  it.each([
    'run_results_v4.json',
    'run_results_v5.json',
    'run_results_v6.json',
    'run_results_v4_bigquery_error.json',
  ])('%s', (f) => {
    const r = parseArtifact(fixture(f), f, RunResults);
    expect(r.status).toBe('ok');
    if (r.status === 'ok') expect(r.data.results.length).toBeGreaterThan(0);
  });
  it('tolerates failures written as a string', () => {
    const r = parseArtifact(fixture('run_results_v5_malformed_failures.json'), 'x', RunResults);
    expect(
      r.status === 'ok' && r.data.results.filter((x) => x.status === 'fail').map((x) => x.failures),
    ).toEqual([1, null]);
  });
  it('parses manifests v11 and v12 and sources v3', () => {
    for (const f of ['manifest_singular_test.json', 'manifest_tap.json'])
      expect(parseArtifact(fixture(f), f, Manifest).status).toBe('ok');
    expect(parseArtifact(fixture('sources_v3.json'), 's', Sources).status).toBe('ok');
  });
  it('reports garbage as an error', () => {
    expect(parseArtifact('{"metadata": 3}', 'x', RunResults).status).toBe('error');
    expect(parseArtifact('nope', 'x', RunResults).status).toBe('error');
  });
});

describe('row counts by adapter', () => {
  it('reads real counts, not views, Snowflake status rows or Spark -1', () => {
    expect(rowsOf({ _message: 'INSERT 0 42', code: 'INSERT', rows_affected: 42 })).toBe(42);
    expect(rowsOf({ _message: 'SELECT 0', code: 'SELECT', rows_affected: 0 })).toBe(0);
    expect(rowsOf({ _message: 'CREATE VIEW', code: 'CREATE VIEW', rows_affected: -1 })).toBeUndefined();
    expect(rowsOf({ _message: 'SUCCESS 1', code: 'SUCCESS', rows_affected: 1 })).toBeUndefined();
    expect(rowsOf({ _message: 'OK', code: 'OK', rows_affected: -1 })).toBeUndefined();
    expect(
      rowsOf({
        _message: 'CREATE TABLE (0.0 rows, 1.2 MiB processed)',
        code: 'CREATE TABLE',
        rows_affected: 0,
      }),
    ).toBe(0);
  });
});

describe('error classification', () => {
  it.each([
    ['column o.amount does not exist', 'missing_column', 'o.amount'],
    ['Unrecognized name: amount_usd at [3:5]', 'missing_column', 'amount_usd'],
    [
      "000904 (42000): SQL compilation error: error line 3 at position 4 invalid identifier 'AMOUNT'",
      'missing_column',
      'AMOUNT',
    ],
    ['invalid input syntax for type integer: "abc"', 'type_mismatch', undefined],
    ['operator does not exist: text = integer', 'type_mismatch', undefined],
    ['No matching signature for function TIMESTAMP_TRUNC', 'type_mismatch', undefined],
    ['permission denied for table payments', 'permission', undefined],
    [
      "'to_cents' is undefined. This can happen when calling a macro that does not exist.",
      'compilation',
      'to_cents',
    ],
    [
      "Model 'model.a.b' (models/b.sql) depends on a node named 'stg_x' which was not found",
      'compilation',
      'stg_x',
    ],
    ['relation "raw.events" does not exist', 'relation_missing', 'raw.events'],
    ['something odd happened', 'other', undefined],
  ])('%s', (msg, kind, subject) => {
    const c = classifyMessage(msg);
    expect(c.kind).toBe(kind);
    if (subject) expect(c.subject).toBe(subject);
  });
});

describe('scope', () => {
  it('keeps the failing node, its direct inputs and one level downstream, not the project', async () => {
    const raw = await local('dbt-missing-column-fct-orders');
    const snap = await buildSnapshot(raw);
    const roles = Object.fromEntries(Object.values(snap.nodes).map((n) => [n.name, n.role]));
    expect(roles.fct_orders).toBe('failing');
    expect(roles.stg_orders).toBe('input');
    expect(roles.fct_daily_revenue).toBe('downstream');
    expect(roles.stg_customers).toBeUndefined();
    expect(scopeIds(undefined, [], [], []).size).toBe(0);
  });
});

describe('rules with counter-examples', () => {
  it('traces a missing column to an upstream whose contract still documents it but whose SQL dropped it', async () => {
    const raw = await local('dbt-missing-column-fct-orders');
    const m = clone(raw.manifest as Manifest);
    const up = m.nodes['model.shop.stg_orders'];
    if (!up) throw new Error('fixture changed');
    up.columns.discount_amount = { name: 'discount_amount', data_type: null };
    const { out } = await diagnose({ ...raw, manifest: m });
    expect(top(out)).toMatchObject({
      category: 'dbt.missing_column',
      culprit: { id: 'model.shop.stg_orders' },
    });
  });

  it('a warn-severity test alone is not an incident', async () => {
    const raw = await local('dbt-unique-test-duplicates');
    const rr = clone(raw.runResults as RunResults);
    for (const r of rr.results) if (r.status === 'fail') r.status = 'warn';
    const { out } = await diagnose({ ...raw, runResults: rr });
    expect(out.failed).toBe(false);
  });

  it('a source past its warn threshold only is not an incident', async () => {
    const raw = await local('dbt-source-freshness-error');
    const s = clone(raw.sources as Sources);
    for (const r of s.results) if (r.status === 'error') r.status = 'warn';
    expect((await diagnose({ ...raw, sources: s })).out.failed).toBe(false);
  });

  it('Snowflake SUCCESS 1 carries no volume: no silent failure', async () => {
    const raw = await local('dbt-empty-output-sessions');
    const rr = clone(raw.runResults as RunResults);
    for (const r of rr.results)
      if (r.adapter_response?.code === 'SELECT')
        r.adapter_response = { _message: 'SUCCESS 1', code: 'SUCCESS', rows_affected: 1 };
    expect((await diagnose({ ...raw, runResults: rr, history: [] })).out.failed).toBe(false);
  });

  it('a volume below 20 % of the median is a drop, 50 % is not', async () => {
    const raw = await local('dbt-empty-output-sessions');
    const med = raw.history.map((h) => h.rows['model.web.fct_sessions'] ?? 0).sort((a, b) => a - b)[3] ?? 0;
    const withRows = (n: number) => {
      const rr = clone(raw.runResults as RunResults);
      for (const r of rr.results)
        if (r.adapter_response?.rows_affected === 0)
          r.adapter_response = { _message: `SELECT ${n}`, code: 'SELECT', rows_affected: n };
      return rr;
    };
    const drop = await diagnose({ ...raw, runResults: withRows(Math.round(med * 0.1)) });
    expect(top(drop.out)).toMatchObject({
      category: 'silent.volume_drop',
      culprit: { id: 'model.web.fct_sessions' },
    });
    expect((await diagnose({ ...raw, runResults: withRows(Math.round(med * 0.5)) })).out.failed).toBe(false);
  });

  it('an incremental model inserting 0 rows with no history is not an incident', async () => {
    const raw = await local('dbt-empty-output-sessions');
    const m = clone(raw.manifest as Manifest);
    for (const n of Object.values(m.nodes))
      if (n?.config.materialized === 'table') n.config.materialized = 'incremental';
    expect((await diagnose({ ...raw, manifest: m, history: [] })).out.failed).toBe(false);
  });

  it('a permission error names the model; a skipped node is never the confirmed cause', async () => {
    const raw = await local('dbt-missing-column-fct-orders');
    const rr = clone(raw.runResults as RunResults);
    for (const r of rr.results)
      if (r.status === 'error')
        r.message = 'Database Error in model fct_orders\n  permission denied for table stg_orders';
    const { out } = await diagnose({ ...raw, runResults: rr });
    expect(top(out)).toMatchObject({
      category: 'dbt.permission_denied',
      culprit: { id: 'model.shop.fct_orders' },
    });
    expect(out.findings.find((f) => f.category === 'dbt.upstream_failure')?.status).not.toBe('confirmed');
  });

  it('a stale source that fed an empty model is the cause, not the empty model', async () => {
    const raw = await local('dbt-empty-output-sessions');
    const m = clone(raw.manifest as Manifest);
    const src = Object.keys(m.sources)[0];
    if (!src) throw new Error('fixture has no source');
    const sources = {
      metadata: {},
      results: [{ unique_id: src, status: 'error', max_loaded_at: '2026-11-18T00:00:00Z' }],
    };
    const { out } = await diagnose({ ...raw, manifest: m, sources: sources as unknown as Sources });
    expect(top(out)).toMatchObject({ category: 'dbt.source_stale', culprit: { id: src } });
  });
});
