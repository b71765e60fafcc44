import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Report } from '../../src/core/report.ts';
import { investigateScenario, ROOT } from '../support/runHeal.ts';
import { type Score, scoreReport, summaryLine } from '../support/score.ts';

const DIR = join(ROOT, 'test', 'scenarios');
const names = readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const scores: Score[] = [];

describe('heal investigate --json on the public scenarios (black box, fixture servers)', () => {
  afterAll(() => console.log(summaryLine(scores)));

  it.each(names)('%s', async (name) => {
    const { scenario, run, report: raw } = await investigateScenario(join(DIR, name));
    const report = Report.parse(raw);
    // Exit codes: 0 a root cause named, 4 abstained (src/cli/main.ts).
    expect(run.code, run.stderr).toBe(scenario.expect.category ? 0 : 4);
    const score = scoreReport(scenario, report, run.stdout);
    scores.push(score);
    expect(report.rootCause?.category ?? null, JSON.stringify(report.rootCause)).toBe(
      scenario.expect.category,
    );
    expect(score).toMatchObject({ top1: true, herringFree: true, cited: true, secretsLeaked: [] });
    if (scenario.expect.culprit) expect(score.culprit, JSON.stringify(report.rootCause?.culprit)).toBe(true);
  });
});
