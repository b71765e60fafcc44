/**
 * `npm run bench` (`-- --quick` for a short run): Heal's benchmarks, printed as one table. Load figures
 * (issue 9: ack latency, alert → thread, throughput and scale-out, big evidence, Slack economy), then
 * rendering and the diagnosis benchmark over test/scenarios.
 */
import { join } from 'node:path';
import { ROOT } from '../test/support/runHeal.ts';
import { benchDbtArtifact } from './dbt-artifact.ts';
import { benchEvidence } from './evidence.ts';
import { bench429, benchAck, benchAlerts, benchThroughput, type Row } from './load.ts';
import { benchRender } from './render.ts';
import { benchScenarios } from './scenarios.ts';
import { benchSparkApp } from './spark-app.ts';

const quick = process.argv.includes('--quick');
/** `--only=ack,evidence`: run just those steps. */
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const rows: Row[] = [];
const step = async (name: string, f: () => Promise<Row[]>) => {
  if (only && !only.includes(name.split(' ')[0] ?? name)) return;
  const t0 = performance.now();
  try {
    rows.push(...(await f()));
  } catch (err) {
    rows.push({
      bench: name,
      figure: `FAILED: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    });
  }
  console.error(`${name} done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
};

await step('ack', () => benchAck(quick ? 5 : 30, 200, quick ? 1 : 3));
await step('alerts', () => benchAlerts(quick ? 40 : 200));
await step('throughput 1', () => benchThroughput(quick ? 100 : 1000, 1, 40_000));
await step('throughput 2', () => benchThroughput(quick ? 100 : 1000, 2, 50_000));
await step('evidence', () => benchEvidence(quick ? 128 : 1024));
await step('evidence spark-app', () => benchSparkApp(200, quick ? 20_000 : 100_000));
await step('evidence dbt-artifact', () => benchDbtArtifact(quick ? 64 : 500));
await step('429s', () => bench429(50));
await step('render', async () => [{ bench: 'render', figure: await benchRender() }]);
await step('scenarios', async () => [
  { bench: 'diagnosis scenarios', figure: await benchScenarios([join(ROOT, 'test', 'scenarios')]) },
]);

const w = Math.max(...rows.map((r) => r.bench.length));
console.log(`\n${'benchmark'.padEnd(w)} | figure\n${'-'.repeat(w)}-|-${'-'.repeat(60)}`);
for (const r of rows) console.log(`${r.bench.padEnd(w)} | ${r.figure}`);
