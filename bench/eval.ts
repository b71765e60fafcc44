/**
 * `npm run eval -- [--scenarios <dir>]... [--out <file>] [--llm]`: the diagnosis benchmark. Runs
 * `heal investigate <target> --json` as a black box on every scenario directory (default: test/scenarios,
 * the project's copy of the public set), each against its own fixture server (../shared/scenarios/README.md),
 * prints one row per scenario and the summary line, and writes the results as JSON.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { investigateScenario, ROOT } from '../test/support/runHeal.ts';
import { type Score, scoreReport, summaryLine } from '../test/support/score.ts';

type ReportLike = Parameters<typeof scoreReport>[1] & {
  rootCause?: { confidence?: number } | null;
  engine?: string;
};

export interface EvalRow extends Score {
  scenario: string;
  platform: string;
  expected: string | null;
  got: string | null;
  culpritId: string | null;
  confidence: number | null;
  engine: string | null;
  ms: number;
  requests: number;
  exitCode: number | null;
}

function scenarioDirs(dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(dir, d.name))
      .filter((d) => readdirSync(d).includes('scenario.json')),
  );
}

async function evalOne(dir: string, env: Record<string, string>): Promise<EvalRow> {
  const started = performance.now();
  const { scenario, run, report: raw, requests } = await investigateScenario(dir, env);
  const report = raw as ReportLike | undefined;
  const rc = report?.rootCause ?? null;
  return {
    scenario: scenario.name,
    platform: scenario.platform,
    expected: scenario.expect.category,
    got: rc?.category ?? null,
    culpritId: rc?.culprit?.id ?? null,
    confidence: rc?.confidence ?? null,
    engine: report?.engine ?? null,
    ms: Math.round(performance.now() - started),
    requests: requests.length,
    exitCode: run.code,
    ...scoreReport(scenario, report, run.stdout),
  };
}

function row(r: EvalRow): string {
  const ok = r.top1 && r.culprit !== false && r.herringFree && r.cited && !r.secretsLeaked.length;
  const got = r.got ? `${r.got} @ ${r.culpritId} (${r.confidence}%)` : 'abstain';
  const want = r.expected ?? 'abstain';
  return `${ok ? 'ok  ' : 'MISS'} ${r.scenario.padEnd(46)} ${got}${ok ? '' : `  [expected ${want}]`} · ${r.ms} ms`;
}

/** Runs the benchmark; returns the rows and the summary line. */
export async function runEval(dirs: string[], env: Record<string, string> = {}) {
  const rows: EvalRow[] = [];
  for (const dir of scenarioDirs(dirs)) {
    const r = await evalOne(dir, env);
    rows.push(r);
    console.log(row(r));
  }
  return { rows, summary: summaryLine(rows) };
}

if (process.argv[1]?.endsWith('eval.ts')) {
  const opts = new Command('eval')
    .option('--scenarios <dir...>', 'scenario directories (repeatable)', [join(ROOT, 'test', 'scenarios')])
    .option('--out <file>', 'where to write the JSON results', join(ROOT, 'eval-results.json'))
    .option('--llm', 'use Claude as a second opinion (needs ANTHROPIC_API_KEY)')
    .parse(process.argv)
    .opts<{ scenarios: string[]; out: string; llm?: boolean }>();
  const env: Record<string, string> = {};
  if (opts.llm) {
    if (!process.env.ANTHROPIC_API_KEY) {
      console.error('eval: --llm needs ANTHROPIC_API_KEY (and optionally ANTHROPIC_BASE_URL, HEAL_MODEL)');
      process.exit(2);
    }
    for (const k of ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'HEAL_MODEL'])
      if (process.env[k]) env[k] = String(process.env[k]);
  }
  const { rows, summary } = await runEval(
    opts.scenarios.map((d) => resolve(d)),
    env,
  );
  writeFileSync(opts.out, `${JSON.stringify({ summary, rows }, null, 2)}\n`);
  console.log(summary);
}
