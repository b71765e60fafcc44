import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Report } from '../../src/core/report.ts';
import { loadScenario } from '../support/fixtureServer.ts';
import { exitCodeFor, investigateScenario, ROOT } from '../support/runHeal.ts';
import { type Score, scoreReport, summaryLine } from '../support/score.ts';

/**
 * Our own holdout-style scenarios, run through `heal investigate --json` as a black box against the fixture
 * server: test/variants (written knowing the rules; test/variants/README.md) and test/variants-blind (written
 * without reading the rule code; test/variants-blind/README.md).
 */
const DIRS = ['variants', 'variants-blind'].map((d) => join(ROOT, 'test', d));
const dirs = DIRS.flatMap((dir) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(dir, d.name)),
);
const names = dirs.map((d) => relative(join(ROOT, 'test'), d));

/**
 * Variants Heal currently gets wrong, with the reason; `it.fails` keeps them visible and turns red as soon as
 * the rules are fixed, so the entry gets removed then.
 */
const KNOWN_MISSES: Record<string, string> = {};

const scores: Score[] = [];

async function investigate(name: string) {
  const { scenario, run, report } = await investigateScenario(join(ROOT, 'test', name));
  const parsed = Report.parse(report);
  expect(run.code, run.stderr).toBe(exitCodeFor(parsed));
  return { scenario, report: parsed, stdout: run.stdout };
}

describe('heal investigate --json on holdout-style variants (black box, fixture History Server)', () => {
  afterAll(() => console.log(`variants: ${summaryLine(scores)}`));

  it.each(names)('%s', async (name) => {
    const { scenario, report, stdout } = await investigate(name);
    const score = scoreReport(scenario, report, stdout);
    scores.push(score);
    // secrets and citations are checked first: they must hold even for a known miss
    expect(score.secretsLeaked).toEqual([]);
    expect(score.cited).toBe(true);
    const check = () => {
      expect(report.rootCause?.category ?? null, JSON.stringify(report.rootCause)).toBe(
        scenario.expect.category,
      );
      expect(score).toMatchObject({ top1: true, herringFree: true });
      if (scenario.expect.culprit)
        expect(score.culprit, JSON.stringify(report.rootCause?.culprit)).toBe(true);
    };
    if (KNOWN_MISSES[name]) expect(check).toThrow();
    else check();
  });

  it('plants every listed secret in the evidence the bot reads', async () => {
    // guards the secrets check above against a variant whose secrets are not actually served
    for (const name of names) {
      const s = loadScenario(join(ROOT, 'test', name));
      // HTTP bodies the fixture server serves, and (dbt) the files Heal reads directly
      const served = [
        ...s.routes.map((r) => r.file),
        ...filesUnder(join(s.dir, 'files')).map((f) => relative(s.dir, f)),
      ];
      for (const secret of s.secrets ?? []) {
        const found = served.some((f) => readFileSafe(join(s.dir, f)).includes(secret));
        expect(found, `${name}: ${secret}`).toBe(true);
      }
    }
  });
});

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
