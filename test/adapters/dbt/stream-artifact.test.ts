import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact } from '../../../src/adapters/dbt/artifacts.ts';
import { Manifest, RunResults } from '../../../src/adapters/dbt/schema.ts';
import { streamArtifact } from '../../../src/adapters/dbt/stream-artifact.ts';
import { PLANS } from '../../../src/adapters/dbt/stream-plans.ts';

const FAILING = 'model.shop.m777';

/** A run_results.json of `mb` MiB: thousands of results with bulky unknown fields and one failure. */
async function bigRunResults(path: string, mb: number): Promise<void> {
  const w = createWriteStream(path);
  w.write(
    '{"metadata":{"invocation_id":"big-1","generated_at":"2026-12-01T02:00:00Z"},"docs_blob":{"x":[1,2,[3]]},"results":[',
  );
  const sql = `select ${'col_a, '.repeat(400)}1`;
  let bytes = 0;
  for (let i = 0; bytes < mb * 2 ** 20; i++) {
    const failing = i === 777;
    const r = {
      unique_id: failing ? FAILING : `model.shop.m${i}`,
      status: failing ? 'error' : 'success',
      message: failing ? 'Database Error in model m777: column "amount" does not exist' : 'SELECT 1',
      adapter_response: { _message: 'SELECT 1', rows_affected: 10 },
      compiled_code: failing ? `select ${'x, '.repeat(50_000)}1` : sql,
      relation_name: `"db"."s"."m${i}"`,
      extra_blob: 'y'.repeat(2000),
    };
    const s = `${i ? ',' : ''}${JSON.stringify(r)}`;
    bytes += s.length;
    if (!w.write(s)) await new Promise<void>((ok) => w.once('drain', () => ok()));
  }
  await new Promise<void>((ok) => w.end('],"elapsed_time":12.5}', () => ok()));
}

describe('dbt artifacts too big to parse whole are streamed and cut down', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'heal-dbt-stream-'));
    await bigRunResults(join(dir, 'run_results.json'), 24);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every result with the fields Heal reads, clips long SQL and says so', async () => {
    const rr = await readArtifact(join(dir, 'run_results.json'), RunResults, PLANS.runResults);
    if (rr.status !== 'ok') throw new Error(rr.message);
    expect(rr.data.results.length).toBeGreaterThan(4000);
    const failing = rr.data.results.find((r) => r.unique_id === FAILING);
    expect(failing).toMatchObject({
      status: 'error',
      message: expect.stringContaining('"amount" does not exist'),
    });
    expect(failing?.compiled_code?.length).toBe(32 * 1024 + 1);
    expect(Object.keys(failing ?? {})).not.toContain('extra_blob');
    expect(Object.keys(rr.data)).not.toContain('docs_blob');
    expect(rr.data.elapsed_time).toBe(12.5);
    expect(rr.notes?.join('\n')).toMatch(/1 long SQL\/message fields clipped/);
  }, 60_000);

  it('stops keeping SQL once the budget is spent, keeping names and statuses', async () => {
    const out = await streamArtifact(join(dir, 'run_results.json'), PLANS.runResults, 'run_results.json', {
      maxFieldChars: 1000,
      maxKeptChars: 100_000,
    });
    const results = out.value.results as Array<Record<string, unknown>>;
    expect(results.at(-1)).toMatchObject({ status: 'success' });
    expect(results.at(-1)?.compiled_code).toBeUndefined();
    expect(out.notes.join('\n')).toMatch(/not kept \(over 100000 characters of SQL kept\)/);
  });

  it('streams a manifest: nodes, sources and macros cut to their fields, maps kept', async () => {
    const manifest = {
      metadata: { adapter_type: 'postgres' },
      nodes: {
        'model.a.b': {
          unique_id: 'model.a.b',
          resource_type: 'model',
          name: 'b',
          raw_code: 'select 1',
          huge: 'z',
        },
      },
      sources: {},
      macros: { 'macro.a.m': { name: 'm', package_name: 'a', macro_sql: '{% macro m() %}{% endmacro %}' } },
      child_map: { 'model.a.b': [] },
      docs: { big: 'd' },
    };
    const out = await streamArtifact(
      Readable.from([JSON.stringify(manifest)]),
      PLANS.manifest,
      'manifest.json',
    );
    const parsed = Manifest.parse(out.value);
    expect(parsed.nodes['model.a.b']).toMatchObject({ name: 'b', raw_code: 'select 1' });
    expect(Object.keys(parsed.nodes['model.a.b'] ?? {})).not.toContain('huge');
    expect(parsed.macros['macro.a.m']).toEqual({ name: 'm', package_name: 'a' });
    expect(parsed.child_map).toEqual({ 'model.a.b': [] });
    expect(Object.keys(out.value)).not.toContain('docs');
  });

  it('turns malformed JSON into an error result naming the file, never a throw', async () => {
    const path = join(dir, 'broken.json');
    writeFileSync(
      path,
      `{"metadata":{},"results":[${`{"unique_id":"x","status":"ok","pad":"${'p'.repeat(500)}"},`.repeat(40_000)}{"unique_id":`,
    );
    const rr = await readArtifact(path, RunResults, PLANS.runResults);
    expect(rr).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/^broken\.json is not valid JSON/),
    });
  });
});
