import { describe, expect, it } from 'vitest';
import { configForTarget } from '../../src/cli/target-servers.ts';
import { loadConfig } from '../../src/core/config.ts';
import { parseTarget } from '../../src/core/target.ts';
import { expandScenario, loadScenario, startFixtureServer } from '../support/fixtureServer.ts';
import { ROOT, runHeal } from '../support/runHeal.ts';
import { lastJsonObject } from '../support/score.ts';

const target = (text: string) => {
  const r = parseTarget(text);
  if (!r.ok) throw new Error(r.error);
  return r.target;
};

describe('the server in a URL target (CLI only, when the platform is not configured)', () => {
  const empty = loadConfig({});
  it.each([
    ['http://hs:18080/history/app-20261120021500-0042/jobs/', 'SPARK_HISTORY_URL', 'http://hs:18080'],
    [
      'http://gw/spark/api/v1/applications/app-20261120021500-0042/1/stages',
      'SPARK_HISTORY_URL',
      'http://gw/spark',
    ],
    [
      'http://rm:8088/proxy/application_1763500000000_0126/jobs/',
      'SPARK_HISTORY_URL',
      'http://rm:8088/proxy/application_1763500000000_0126',
    ],
    ['http://af:8080/dags/etl/grid?dag_run_id=manual__1', 'AIRFLOW_BASE_URL', 'http://af:8080'],
    ['https://corp/airflow/dags/etl/runs/manual__1/tasks/load', 'AIRFLOW_BASE_URL', 'https://corp/airflow'],
    [
      'https://cloud.getdbt.com/deploy/12/projects/3/runs/70403103',
      'DBT_CLOUD_URL',
      'https://cloud.getdbt.com',
    ],
  ] as const)('%s → %s', (url, key, want) => {
    expect(configForTarget(empty, target(url))[key]).toBe(want);
  });

  it('never overrides a configured server', () => {
    const configured = loadConfig({ SPARK_HISTORY_URL: 'http://configured:18080' });
    const t = target('http://elsewhere:18080/history/app-20261120021500-0042/jobs/');
    expect(configForTarget(configured, t).SPARK_HISTORY_URL).toBe('http://configured:18080');
  });

  it('investigates a History Server URL with no SPARK_HISTORY_URL set', async () => {
    const scenario = loadScenario(`${ROOT}/test/scenarios/spark-skew-hot-customer-oom`);
    const server = await startFixtureServer(scenario.dir);
    try {
      const { target: words } = expandScenario(scenario, server.base);
      const url = `${server.base}/history/${words[1]}/jobs/`;
      const run = await runHeal(['investigate', url, '--json']);
      expect(run.code, run.stderr).toBe(0);
      const report = lastJsonObject(run.stdout) as { rootCause: { category: string } | null };
      expect(report.rootCause?.category).toBe('spark.data_skew');
    } finally {
      await server.close();
    }
  });
});
