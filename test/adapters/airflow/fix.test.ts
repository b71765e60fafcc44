import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RepoEntry as RepoEntrySchema } from '../../../src/adapters/git/repos.ts';
import type { Collection } from '../../../src/adapters/types.ts';
import type { Report } from '../../../src/core/report.ts';
import { proposeFix } from '../../../src/diagnosis/fix.ts';
import { airflowRepo, FX_RATES_DAG, WAREHOUSE_DAG } from '../git/fixtures.ts';
import { type SeededRepo, scenarioDir, scenarioReport, seedBareRepo, testCtx } from '../git/helpers.ts';

describe('Airflow fix templates on airflow-execution-timeout', () => {
  let seeded: SeededRepo;
  let report: Report;
  let collection: Collection;
  beforeAll(async () => {
    seeded = seedBareRepo({ 'airflow/dags/warehouse/warehouse_nightly.py': WAREHOUSE_DAG });
    ({ report, collection } = await scenarioReport(scenarioDir('airflow-execution-timeout')));
  });
  afterAll(() => seeded.dispose());

  it('raises execution_timeout on the culprit task, sized from its successful history', async () => {
    const out = await proposeFix(report, collection, testCtx(), { repos: [airflowRepo(seeded.url)] });
    const p = out.proposal;
    if (!p) throw new Error(out.words);
    expect(p.template).toBe('airflow.execution_timeout');
    expect(p.baseSha).toBe(seeded.sha);
    expect(p.codePinned).toBe(false);
    expect(out.fix?.files).toEqual(['airflow/dags/warehouse/warehouse_nightly.py']);
    // longest successful run 7013 s × 1.5 = 10520 s, rounded up to 15 min: 3 h
    expect(out.fix?.diff).toContain('-        execution_timeout=timedelta(hours=2),');
    expect(out.fix?.diff).toContain('+        execution_timeout=timedelta(hours=3),');
    const changed = (out.fix?.diff ?? '').split('\n').filter((l) => /^[+-](?![+-]{2} )/.test(l));
    expect(changed).toHaveLength(2);
    expect(out.prevention?.files).toEqual([
      'airflow/tests/test_heal_warehouse_nightly_build_order_facts_timeout.py',
    ]);
    expect(out.prevention?.diff).toMatch(/RECENT = \[[\d, ]+7013/);
    expect(out.prevention?.why).toMatch(/7200 s, below 1\.25 × 7013 s/);
    expect(p.fix.message).toContain(`Run: ${report.pinned.ref}`);
  });

  it('says in words that nothing maps when the DAG folder is not in the mapping', async () => {
    const other = RepoEntrySchema.parse({
      repo: 'acme/other',
      url: seeded.url,
      airflow: [{ dagsFolder: '/srv/dags/' }],
    });
    const out = await proposeFix(report, collection, testCtx(), { repos: [other] });
    expect(out.fix).toBeNull();
    expect(out.proposal).toBeNull();
    expect(out.words).toMatch(
      /No repository in HEAL_REPOS_FILE maps the DAG file \/opt\/airflow\/dags\/warehouse\/warehouse_nightly\.py/,
    );
  });

  it('offers no fix when the task cannot be found in the DAG file', async () => {
    const bad = seedBareRepo({
      'airflow/dags/warehouse/warehouse_nightly.py': WAREHOUSE_DAG.replaceAll(
        'build_order_facts',
        'build_facts',
      ),
    });
    try {
      const out = await proposeFix(report, collection, testCtx(), { repos: [airflowRepo(bad.url)] });
      expect(out.fix).toBeNull();
      expect(out.words).toMatch(/No call with task_id="build_order_facts"/);
    } finally {
      bad.dispose();
    }
  });
});

describe('Airflow retries template on airflow-vendor-api-connection-reset', () => {
  it('retries the failing task with exponential backoff, with a DagBag check', async () => {
    const seeded = seedBareRepo({ 'airflow/dags/finance/fx_rates_sync.py': FX_RATES_DAG });
    try {
      const { report, collection } = await scenarioReport(scenarioDir('airflow-vendor-api-connection-reset'));
      const out = await proposeFix(report, collection, testCtx(), { repos: [airflowRepo(seeded.url)] });
      expect(out.proposal?.template, out.words).toBe('airflow.retries');
      const changed = (out.fix?.diff ?? '').split('\n').filter((l) => /^[+-](?![+-]{2} )/.test(l));
      expect(changed).toEqual([
        '-    fetch = PythonOperator(task_id="fetch_rates", python_callable=fetch_rates)',
        '+    fetch = PythonOperator(task_id="fetch_rates", python_callable=fetch_rates, retries=3, retry_delay=timedelta(minutes=5), retry_exponential_backoff=True)',
      ]);
      expect(out.prevention?.files).toEqual(['airflow/tests/test_heal_fx_rates_sync_fetch_rates_retries.py']);
      expect(out.prevention?.why).toMatch(/retries=2/);
    } finally {
      seeded.dispose();
    }
  });
});
