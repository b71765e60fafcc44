import { describe, expect, it } from 'vitest';
import { Report } from '../../src/core/report.ts';
import { ROOT, runHeal } from '../support/runHeal.ts';
import { lastJsonObject } from '../support/score.ts';

describe('heal CLI', () => {
  it('rejects a bad target with the word it did not understand, the grammar and no stack', async () => {
    const run = await runHeal(['investigate', 'sprak', 'app-1', '--json']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('`sprak`');
    expect(run.stderr).toContain('Usage:');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('names the missing configuration of a platform as a gap, not a crash', async () => {
    const run = await runHeal(['investigate', 'airflow', 'revenue_daily', 'manual__1', '--json']);
    expect(run.code, 'exit 3: nothing could be investigated').toBe(3);
    const report = Report.parse(lastJsonObject(run.stdout));
    expect(report.rootCause).toBeNull();
    expect(report.gaps.join(' ')).toMatch(/AIRFLOW_BASE_URL/);
  });

  it('names every invalid environment variable', async () => {
    const run = await runHeal(['investigate', 'spark', 'app-1'], { PORT: 'x', SPARK_HISTORY_URL: 'nope' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/PORT/);
    expect(run.stderr).toMatch(/SPARK_HISTORY_URL/);
  });

  it('turns an unreachable History Server into a stated gap in a valid report', async () => {
    const run = await runHeal(['investigate', 'spark', 'app-20261120021500-0042', '--json'], {
      SPARK_HISTORY_URL: 'http://127.0.0.1:45999',
    });
    expect(run.code, 'exit 3: platform unreachable').toBe(3);
    const report = Report.parse(lastJsonObject(run.stdout));
    expect(report.rootCause).toBeNull();
    expect(report.gaps.join(' ')).toMatch(/127\.0\.0\.1:45999.*connection refused/);
  });

  it('reads a local dbt path wherever a human typed it (no HEAL_DBT_ROOTS on the command line)', async () => {
    const dir = `${ROOT}/test/scenarios/dbt-missing-column-fct-orders/files/target`;
    const run = await runHeal(['investigate', 'dbt', dir, '--json'], { HEAL_DBT_ROOTS: '/nonexistent-root' });
    expect(run.code, run.stderr).toBe(0);
    expect(Report.parse(lastJsonObject(run.stdout)).rootCause?.category).toBe('dbt.missing_column');
  });

  it('runs the demo without a Slack workspace or an API key', async () => {
    const run = await runHeal(['demo']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/spark\.data_skew · confidence \d+%/);
    expect(run.stdout).toMatch(/Culprit:\s+stage 3/);
  });
});
