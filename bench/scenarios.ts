/**
 * The diagnosis benchmark as one figure for `npm run bench` (the full tool is bench/eval.ts):
 * `node bin/run-ts.js bench/scenarios.ts [dir...]` prints a row per scenario and the summary line.
 */
import { join, resolve } from 'node:path';
import { ROOT } from '../test/support/runHeal.ts';
import { runEval } from './eval.ts';

export async function benchScenarios(dirs: string[]): Promise<string> {
  return (await runEval(dirs)).summary;
}

if (process.argv[1]?.endsWith('scenarios.ts')) {
  const args = process.argv.slice(2);
  console.log(
    await benchScenarios(args.length ? args.map((a) => resolve(a)) : [join(ROOT, 'test', 'scenarios')]),
  );
}
