/**
 * Big evidence, part two: a Spark application of 200 stages / 100k tasks (test/support/syntheticHistory.ts in
 * its own process, bench/synthetic-history.ts) pinned, collected and diagnosed here, timed with the peak RSS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/logger.ts';
import { collectStep, diagnoseStep, pinStep } from '../src/diagnosis/investigate.ts';
import { ROOT } from '../test/support/runHeal.ts';
import type { Row } from './load.ts';
import { measured } from './measure.ts';

async function startSynthetic(stages: number, tasks: number): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(
    process.execPath,
    ['bin/run-ts.js', 'bench/synthetic-history.ts', String(stages), String(tasks)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  for (let i = 0; i < 300 && !/LISTENING (\d+)/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
  const port = out.match(/LISTENING (\d+)/)?.[1];
  if (!port) throw new Error(`synthetic History Server did not start: ${out}`);
  return { child, base: `http://127.0.0.1:${port}` };
}

export async function benchSparkApp(stages = 200, tasks = 100_000): Promise<Row[]> {
  const { child, base } = await startSynthetic(stages, tasks);
  try {
    const config = loadConfig({ SPARK_HISTORY_URL: base, HEAL_HTTP_TIMEOUT_MS: '120000' });
    const ctx = { config, log: createLogger('silent') };
    const {
      result,
      seconds: s,
      rss0,
      peak,
    } = await measured(async () => {
      const pin = await pinStep({ platform: 'spark', appId: 'app-20261120021500-0042' }, ctx);
      if (pin.status !== 'ok') throw new Error(pin.message);
      const collection = await collectStep(pin.data, ctx);
      return { collection, report: diagnoseStep('inc_bench', pin.data, collection) };
    }, 5);
    const { collection, report } = result;
    const rc = report.rootCause;
    return [
      {
        bench: `evidence: Spark app, ${stages} stages / ${(tasks / 1000).toFixed(0)}k tasks`,
        figure: `${s.toFixed(2)} s pin+collect+diagnose, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (+${((peak - rss0) / 2 ** 20).toFixed(0)}); ${rc ? `${rc.category} ${rc.confidence}%` : 'abstained'}, ${collection.gaps.length} gaps${collection.gaps.length ? ` (${collection.gaps[0]?.slice(0, 120)})` : ''}`,
      },
    ];
  } finally {
    child.kill();
    await once(child, 'exit').catch(() => undefined);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await benchSparkApp(Number(process.argv[2] ?? 200), Number(process.argv[3] ?? 100_000));
  for (const r of rows) console.log(`${r.bench} | ${r.figure}`);
}
