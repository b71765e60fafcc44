import { describe, expect, it } from 'vitest';
import { incidentId } from '../../src/core/incident.ts';
import { parseTarget, type Target } from '../../src/core/target.ts';

const ok = (text: string): Target => {
  const r = parseTarget(text);
  if (!r.ok) throw new Error(r.error);
  return r.target;
};
const error = (text: string): string => {
  const r = parseTarget(text);
  if (r.ok) throw new Error(`parsed: ${JSON.stringify(r.target)}`);
  return r.error;
};

describe('target grammar', () => {
  it.each([
    ['spark application_1700000000000_0042', { platform: 'spark', appId: 'application_1700000000000_0042' }],
    [
      'spark app-20261120021500-0042/1',
      { platform: 'spark', appId: 'app-20261120021500-0042', attempt: '1' },
    ],
    [
      'SPARK spark-3f9e2a7c41b84d0e9a1f6c2b8d7e5a10',
      { platform: 'spark', appId: 'spark-3f9e2a7c41b84d0e9a1f6c2b8d7e5a10' },
    ],
    [
      'airflow revenue_daily scheduled__2026-11-20T02:00:00+00:00 load',
      {
        platform: 'airflow',
        dagId: 'revenue_daily',
        runId: 'scheduled__2026-11-20T02:00:00+00:00',
        taskId: 'load',
      },
    ],
    ['dbt ./target', { platform: 'dbt', path: './target' }],
    ['dbt cloud 70403103', { platform: 'dbt', cloudRunId: '70403103' }],
  ])('parses %s', (text, target) => {
    expect(ok(text)).toEqual(target);
  });

  it.each([
    [
      'http://history:18080/history/application_1763500000000_0107/1/jobs/',
      'application_1763500000000_0107',
      '1',
    ],
    ['http://history:18080/history/app-20261120021500-0042/jobs/', 'app-20261120021500-0042', undefined],
    [
      'http://history:18080/api/v1/applications/app-20261120021500-0042/2/stages',
      'app-20261120021500-0042',
      '2',
    ],
    ['http://rm:8088/proxy/application_1763500000000_0126/', 'application_1763500000000_0126', undefined],
    ['http://master:8080/app/?appId=app-20261120021500-0042', 'app-20261120021500-0042', undefined],
  ])('parses the Spark URL %s', (url, appId, attempt) => {
    const t = ok(url);
    expect(t).toMatchObject({ platform: 'spark', appId, url });
    expect(t.platform === 'spark' ? t.attempt : 'x').toBe(attempt);
  });

  it('parses Airflow 2 and 3 UI URLs', () => {
    expect(ok('http://airflow:8080/dags/etl/grid?dag_run_id=manual__1&task_id=load')).toMatchObject({
      platform: 'airflow',
      dagId: 'etl',
      runId: 'manual__1',
      taskId: 'load',
    });
    expect(ok('http://airflow:8080/dags/etl/runs/manual__1/tasks/load')).toMatchObject({
      dagId: 'etl',
      taskId: 'load',
    });
  });

  it('says an application id is needed for a bare `spark`', () => {
    expect(error('spark')).toMatch(/needs an application id/);
  });

  it('names the word it did not understand, with the grammar and an example', () => {
    const message = error('sprak app-1');
    expect(message).toContain('`sprak`');
    expect(message).toContain('Usage:');
    expect(message).toContain('Example:');
  });

  it.each([
    'spark app/1/2',
    'spark a b',
    'spark app/!!',
    'airflow dag',
    'dbt cloud abc',
    'http://x/nothing-here',
    '',
  ])('rejects %j with a message', (text) => {
    expect(error(text)).toMatch(/Usage:/);
  });

  it('gives the same run the same incident id', () => {
    const a = incidentId(ok('spark app-20261120021500-0042'));
    expect(a).toMatch(/^inc_[0-9a-f]{16}$/);
    expect(incidentId(ok('http://h:18080/history/app-20261120021500-0042/jobs/'))).toBe(a);
    expect(incidentId(ok('spark app-20261120021500-0042/1'))).not.toBe(a);
  });

  it.each([
    'airflow etl X-API-Key: fakehealapikey-0123456789',
    'airflow etl run1 github_pat_11FAKEHEAL0_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    "dbt sentry_sdk.init(dsn='https://0123456789abcdeffedcba9876543210@o123456.ingest.sentry.io/4500000')",
    'https://airflow.acme.io/dags/etl/grid?dag_run_id=manual__1&token=abcdefgh12345678',
  ])('refuses %j as carrying a secret, without repeating it', (text) => {
    const message = error(text);
    expect(message).toMatch(/secret/);
    expect(message).not.toMatch(/fakehealapikey|github_pat|0123456789abcdef|abcdefgh12345678/);
  });

  it('turns a URL with broken percent-encoding into an error, not a throw', () => {
    expect(error('http://h:18080/history/%E0%A4%A/app-20261120021500-0042')).toMatch(/not a valid URL/);
  });

  it("holds Airflow ids to Airflow's own grammar", () => {
    expect(error('airflow etl;drop run1')).toMatch(/dagId.*not an Airflow id/);
    expect(error('airflow etl run1 task/../x')).toMatch(/taskId.*not an Airflow id/);
  });
});
