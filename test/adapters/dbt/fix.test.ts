import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addColumnTest, nearest, renameInSql } from '../../../src/adapters/dbt/fix.ts';
import { RepoEntry } from '../../../src/adapters/git/repos.ts';
import { proposeFix } from '../../../src/diagnosis/fix.ts';
import { type SeededRepo, scenarioDir, scenarioReport, seedBareRepo, testCtx } from '../git/helpers.ts';

const STAGING_YML = `version: 2

models:
  - name: stg_orders
    description: One row per order.
    columns:
      - name: order_id
        data_tests:
          - unique
          - not_null
  - name: stg_order_items
`;

/** The project's files as the manifest knows them (raw_code at original_file_path), under analytics/. */
function projectFiles(manifestPath: string): Record<string, string> {
  const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const files: Record<string, string> = {
    'analytics/dbt_project.yml': "name: shop\nversion: '1.0'\nprofile: shop\n",
    'analytics/models/staging/shop/_shop__models.yml': STAGING_YML,
    'analytics/models/marts/_marts__models.yml': 'version: 2\n\nmodels:\n  - name: fct_orders\n',
  };
  for (const n of Object.values<{ resource_type: string; original_file_path?: string; raw_code?: string }>(
    m.nodes,
  ))
    if (n.resource_type === 'model' && n.original_file_path && n.raw_code)
      files[`analytics/${n.original_file_path}`] = `${n.raw_code}\n`;
  return files;
}

const mapping = (url: string) =>
  RepoEntry.parse({ repo: 'acme/analytics', url, dbt: [{ project: 'shop', path: 'analytics' }] });
const changed = (diff: string) => diff.split('\n').filter((l) => /^[+-](?![+-]{2} )/.test(l));

const cleanup: Array<() => void> = [];
afterAll(() => {
  for (const f of cleanup) f();
});

function seeded(scenario: string): SeededRepo {
  const repo = seedBareRepo(projectFiles(join(scenarioDir(scenario), 'files', 'target', 'manifest.json')));
  cleanup.push(repo.dispose);
  return repo;
}

/** A copy of a public scenario whose artifacts are edited (the rename variants). */
interface RunJson {
  results: Array<{ unique_id: string; message: string }>;
}
interface ManifestJson {
  nodes: Record<string, { columns: Record<string, unknown> }>;
}

function variant(scenario: string, edit: (run: RunJson, manifest: ManifestJson) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'heal-dbt-variant-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(scenarioDir(scenario), dir, { recursive: true });
  const target = join(dir, 'files', 'target');
  const run = JSON.parse(readFileSync(join(target, 'run_results.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(target, 'manifest.json'), 'utf8'));
  edit(run, manifest);
  writeFileSync(join(target, 'run_results.json'), JSON.stringify(run));
  writeFileSync(join(target, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

describe('dbt fix helpers', () => {
  it('renames a qualified column, keeping a bare select item output name', () => {
    const sql = 'select\n    o.discount_amount,\n    i.total - o.discount_amount as net\nfrom orders o';
    expect(renameInSql(sql, 'discount_amount', 'discount_amt', 'o')).toBe(
      'select\n    o.discount_amt as discount_amount,\n    i.total - o.discount_amt as net\nfrom orders o',
    );
  });

  it('picks one near name or none', () => {
    expect(nearest('cents_to_dollars', ['to_dollars', 'generate_schema_name'])).toBe('to_dollars');
    expect(nearest('discount_amount', ['order_id', 'promo_code', 'updated_at'])).toBeUndefined();
    expect(nearest('stg_orderz', ['stg_orders', 'stg_order'])).toBeUndefined();
  });

  it('adds a not_null test to a model column in its YAML, keeping the file', () => {
    const next = addColumnTest(STAGING_YML, 'stg_orders', 'discount_amt') ?? '';
    expect(next).toContain('description: One row per order.');
    expect(next).toMatch(/- name: discount_amt\n\s+data_tests:\n\s+- not_null/);
    expect(addColumnTest(STAGING_YML, 'missing_model', 'x')).toBeUndefined();
  });
});

describe('dbt fix templates on the public scenarios', () => {
  it('dbt-undefined-macro: calls the renamed macro the project defines', async () => {
    const repo = seeded('dbt-undefined-macro');
    const { report, collection } = await scenarioReport(scenarioDir('dbt-undefined-macro'));
    const out = await proposeFix(report, collection, testCtx(), { repos: [mapping(repo.url)] });
    expect(out.proposal?.template, out.words).toBe('dbt.rename_macro');
    expect(out.fix?.files).toEqual(['analytics/models/marts/fct_daily_revenue.sql']);
    expect(changed(out.fix?.diff ?? '')).toEqual([
      "-    {{ cents_to_dollars('sum(amount_paid * 100)') }} as revenue",
      "+    {{ to_dollars('sum(amount_paid * 100)') }} as revenue",
    ]);
    expect(out.words).toMatch(/dbt compile/);
  });

  it('dbt-missing-column-fct-orders: no input has the column and nothing names one, so words and no fix', async () => {
    const repo = seeded('dbt-missing-column-fct-orders');
    const { report, collection } = await scenarioReport(scenarioDir('dbt-missing-column-fct-orders'));
    const out = await proposeFix(report, collection, testCtx(), { repos: [mapping(repo.url)] });
    expect(out.fix).toBeNull();
    expect(out.proposal).toBeNull();
    expect(out.words).toMatch(/selects discount_amount that no input has/);
  });

  it('follows an upstream rename the input documents, with a column test where the rename happened', async () => {
    const repo = seeded('dbt-missing-column-fct-orders');
    const dir = variant('dbt-missing-column-fct-orders', (_run, m) => {
      const stg = m.nodes['model.shop.stg_orders'];
      if (stg) stg.columns.discount_amt = { name: 'discount_amt', data_type: 'numeric' };
    });
    const { report, collection } = await scenarioReport(dir);
    const out = await proposeFix(report, collection, testCtx(), { repos: [mapping(repo.url)] });
    expect(out.proposal?.template, out.words).toBe('dbt.rename_column');
    expect(changed(out.fix?.diff ?? '')).toEqual([
      '-    o.discount_amount,',
      '-    i.items_total_cents / 100.0 - o.discount_amount as net_total',
      '+    o.discount_amt as discount_amount,',
      '+    i.items_total_cents / 100.0 - o.discount_amt as net_total',
    ]);
    expect(out.prevention?.files).toEqual(['analytics/models/staging/shop/_shop__models.yml']);
    expect(out.prevention?.diff).toMatch(/\+\s+- name: discount_amt\n\+\s+data_tests:\n\+\s+- not_null/);
    expect(out.prevention?.why).toMatch(/stg_orders no longer had discount_amount/);
  });

  it("uses the database's own suggestion (Postgres HINT) when it names the new column", async () => {
    const repo = seeded('dbt-missing-column-fct-orders');
    const dir = variant('dbt-missing-column-fct-orders', (run) => {
      const r = run.results.find((x) => x.unique_id === 'model.shop.fct_orders');
      if (r)
        r.message = r.message.replace(
          '\n  LINE',
          '\n  HINT:  Perhaps you meant to reference the column "o.order_discount".\n  LINE',
        );
    });
    const { report, collection } = await scenarioReport(dir);
    const out = await proposeFix(report, collection, testCtx(), { repos: [mapping(repo.url)] });
    expect(out.proposal?.template, out.words).toBe('dbt.rename_column');
    expect(out.fix?.diff).toContain('+    o.order_discount as discount_amount,');
    expect(out.words).toMatch(/the database suggests order_discount/);
  });

  it('fixes a ref to a model that does not exist when the project has one close match', async () => {
    const files = projectFiles(join(scenarioDir('dbt-undefined-macro'), 'files', 'target', 'manifest.json'));
    const path = 'analytics/models/marts/fct_daily_revenue.sql';
    files[path] = (files[path] ?? '').replace("ref('fct_orders')", "ref('fct_order')");
    const repo = seedBareRepo(files);
    cleanup.push(repo.dispose);
    const dir = variant('dbt-undefined-macro', (run) => {
      const r = run.results.find((x) => x.unique_id === 'model.shop.fct_daily_revenue');
      if (r)
        r.message =
          "Compilation Error\n  Model 'model.shop.fct_daily_revenue' (models/marts/fct_daily_revenue.sql) depends on a node named 'fct_order' which was not found";
    });
    const { report, collection } = await scenarioReport(dir);
    expect(report.rootCause?.category).toBe('dbt.compilation_error');
    const out = await proposeFix(report, collection, testCtx(), { repos: [mapping(repo.url)] });
    expect(out.proposal?.template, out.words).toBe('dbt.fix_ref');
    expect(changed(out.fix?.diff ?? '')).toEqual([
      "-from {{ ref('fct_order') }}",
      "+from {{ ref('fct_orders') }}",
    ]);
  });
});
