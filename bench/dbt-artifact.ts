/**
 * Big dbt artifacts (issue 13.9): a generated run_results.json (500 MiB; --quick 64 MiB) with one failing
 * model among tens of thousands, read by Heal's `readArtifact` (streamed and cut down), timed with the
 * growth of this process's RSS. Read whole, the same file took ~1.5 GiB per investigation.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readArtifact } from '../src/adapters/dbt/artifacts.ts';
import { RunResults } from '../src/adapters/dbt/schema.ts';
import { PLANS } from '../src/adapters/dbt/stream-plans.ts';
import type { Row } from './load.ts';
import { measured } from './measure.ts';

async function writeRunResults(path: string, bytes: number): Promise<void> {
  const w = createWriteStream(path);
  w.write('{"metadata":{"invocation_id":"bench-1","adapter_type":"postgres"},"results":[');
  const sql = `select ${'col_a, '.repeat(2000)}1`;
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const r = {
      unique_id: `model.big.m${i}`,
      status: i === 777 ? 'error' : 'success',
      message: i === 777 ? 'Database Error in model m777: column "amount" does not exist' : 'SELECT 1',
      adapter_response: { _message: 'SELECT 1', rows_affected: 10 },
      compiled_code: sql,
      timing: [],
      extra_blob: 'x'.repeat(500),
    };
    const s = `${i ? ',' : ''}${JSON.stringify(r)}`;
    n += s.length;
    if (!w.write(s)) await new Promise<void>((ok) => w.once('drain', () => ok()));
  }
  await new Promise<void>((ok) => w.end('],"elapsed_time":1}', () => ok()));
}

export async function benchDbtArtifact(mib: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'heal-bench-dbt-'));
  try {
    const path = join(dir, 'run_results.json');
    await writeRunResults(path, mib * 2 ** 20);
    const m = await measured(() => readArtifact(path, RunResults, PLANS.runResults));
    const r = m.result;
    const found = r.status === 'ok' && r.data.results.some((x) => x.status === 'error');
    const rate = (mib / m.seconds).toFixed(0);
    const figure = `${mib} MiB run_results.json: ${m.seconds.toFixed(1)} s (${rate} MiB/s), +${((m.peak - m.rss0) / 2 ** 20).toFixed(0)} MiB RSS, failure ${found ? 'found' : 'MISSED'}`;
    return [{ bench: 'dbt artifact (streamed)', figure }];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
