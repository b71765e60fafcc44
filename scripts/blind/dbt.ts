/** Blind dbt variants: written from the public scenarios and the contracts only, never from the rules. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mapStrings } from '../variants/edit.ts';
import { editJson, editText, type Json, replaceEverywhere, type Scn } from '../variants/io.ts';
import type { Variant } from '../variants/renamed.ts';

const RR = 'files/target/run_results.json';
const MISSING_COL = /column o\.discount_amount does not exist\n\s*LINE 43:\s*o\.discount_amount,\n\s*\^\n/;

/** Sets the dbt version in the artifacts' metadata and the log banner. */
function setDbtVersion(s: Scn, v: string): void {
  for (const f of [...s.files.keys()].filter((k) => /files\/.*\.json$/.test(k) && !k.includes('/history/'))) {
    editJson(s, f, (a) => {
      if (a.metadata?.dbt_version) a.metadata.dbt_version = v;
    });
  }
  editText(s, 'files/logs/dbt.log', (t) => t.replace(/Running with dbt=[\d.]+/g, `Running with dbt=${v}`));
}

/** Replaces the fct_orders database error (run_results message and dbt.log) with another one. */
function swapDatabaseError(s: Scn, error: string): void {
  mapStrings(s, (t) => t.replace(MISSING_COL, `${error}\n`));
}

const PG_PW = 'dbt-Pr0d-BLIND-pw-5521';
const STRIPE = 'sk_live_BLINDfake000000000000000000';

const typeMismatch: Variant = {
  name: 'dbt-b-type-mismatch-cast',
  source: 'dbt-missing-column-fct-orders',
  transformation:
    'fct_orders now casts o.promo_code::integer (a real text column of stg_orders) instead of selecting the missing ' +
    'discount_amount; Postgres rejects a value: invalid input syntax for type integer: "BLACKFRIDAY26". dbt 1.9.3.',
  why: 'A value cannot be cast: type_mismatch in fct_orders (where the cast is written); no column is missing.',
  apply: (s) => {
    swapDatabaseError(s, 'invalid input syntax for type integer: "BLACKFRIDAY26"');
    replaceEverywhere(s, [['o.discount_amount', 'o.promo_code::integer']]);
    setDbtVersion(s, '1.9.3');
    s.manifest.expect = {
      category: 'dbt.type_mismatch',
      culprit: { kind: 'model', id: 'model.shop.fct_orders', aliases: ['fct_orders'] },
      alternatives: ['dbt.missing_column', 'dbt.compilation_error', 'dbt.upstream_failure'],
    };
  },
};

const permission: Variant = {
  name: 'dbt-b-permission-denied-secrets',
  source: 'dbt-missing-column-fct-orders',
  transformation:
    'fct_orders no longer references the missing column; it fails with "permission denied for table orders" (the ' +
    'prod role lost SELECT on shop_raw.orders read through the stg_orders view). Planted secrets: a DSN with a ' +
    'password in run_results metadata.env (DBT_ENV_CUSTOM_ENV_*) and a Stripe key in --vars (args.vars, dbt.log).',
  why: 'The warehouse role lacks a grant: permission_denied, culprit the failing model fct_orders; secrets must not leak.',
  apply: (s) => {
    swapDatabaseError(s, 'permission denied for table orders');
    replaceEverywhere(s, [['o.discount_amount', '0::numeric']]);
    const dsn = `postgresql://dbt_prod:${PG_PW}@pg-prod.internal:5432/shop`;
    const vars = { stripe_api_key: STRIPE, run_date: '2026-11-19' };
    editJson(s, RR, (r) => {
      r.metadata.env = { DBT_ENV_CUSTOM_ENV_WAREHOUSE_DSN: dsn, DBT_ENV_CUSTOM_ENV_JOB: 'shop_nightly' };
      r.args.vars = vars;
      r.args.invocation_command = `dbt build --vars '${JSON.stringify(vars)}'`;
    });
    editText(s, 'files/logs/dbt.log', (t) =>
      t.replace(/(running dbt with arguments \{)/, `$1'vars': '${JSON.stringify(vars)}', `),
    );
    s.manifest.secrets = [PG_PW, STRIPE];
    s.manifest.tags.push('secrets');
    s.manifest.expect = {
      category: 'dbt.permission_denied',
      culprit: {
        kind: 'model',
        id: 'model.shop.fct_orders',
        aliases: ['fct_orders', 'orders', 'shop_raw.orders'],
      },
      alternatives: ['dbt.missing_column', 'dbt.compilation_error', 'dbt.source_stale'],
    };
  },
};

const VAR_ERROR =
  "Compilation Error in model fct_daily_revenue (models/marts/fct_daily_revenue.sql)\n  Required var 'revenue_start_date' not found in config:\n  Vars supplied to fct_daily_revenue = {}";

const compileWithWarn: Variant = {
  name: 'dbt-b-missing-var-freshness-warn',
  source: 'dbt-undefined-macro',
  transformation:
    "dbt 1.10.4; fct_daily_revenue now fails to compile with Required var 'revenue_start_date' not found; a " +
    'sources.json from the same night (source freshness step) is added in which stripe.payments is WARN (9 h old, ' +
    'warn_after 6 h, error_after 24 h) and the shop_raw sources pass.',
  why:
    'The build failed on a compilation error (a var the model needs is not supplied): compilation_error on ' +
    'fct_daily_revenue. The freshness warning is below its error threshold and did not fail anything.',
  apply: (s) => {
    mapStrings(s, (t) =>
      t.replace(
        /Compilation Error in model fct_daily_revenue \(models\/marts\/fct_daily_revenue\.sql\)\n\s*'cents_to_dollars' is undefined\.[^\n]*/,
        VAR_ERROR,
      ),
    );
    setDbtVersion(s, '1.10.4');
    const src = JSON.parse(
      readFileSync(
        join(
          import.meta.dirname,
          '../../test/scenarios/dbt-source-freshness-error/files/target/sources.json',
        ),
        'utf8',
      ),
    );
    src.metadata.dbt_version = '1.10.4';
    for (const r of src.results as Json[]) {
      if (r.unique_id !== 'source.shop.stripe.payments') continue;
      r.status = 'warn';
      const ago = 9 * 3600 + 412;
      const snap = Date.parse(r.snapshotted_at);
      r.max_loaded_at = new Date(snap - ago * 1000).toISOString().replace('.000Z', '+00:00');
      r.max_loaded_at_time_ago_in_s = ago;
    }
    s.files.set('files/target/sources.json', JSON.stringify(src));
    s.manifest.expect = {
      category: 'dbt.compilation_error',
      culprit: { kind: 'model', id: 'model.shop.fct_daily_revenue', aliases: ['fct_daily_revenue'] },
      alternatives: ['dbt.source_stale', 'dbt.upstream_failure', 'dbt.missing_column'],
    };
    s.manifest.tags.push('freshness', 'red-herring');
  },
};

/** A BigQuery adapter_response for a table build of `rows` rows. */
function bq(rows: number, seed: number): Json {
  const bytes = rows * 2311 + seed * 1024;
  const k = rows >= 1000 ? `${(rows / 1000).toFixed(1)}k` : String(rows);
  return {
    _message: `CREATE TABLE (${k} rows, ${(bytes / 2 ** 20).toFixed(1)} MiB processed)`,
    code: 'CREATE TABLE',
    rows_affected: rows,
    bytes_processed: bytes,
    bytes_billed: Math.ceil(bytes / 2 ** 20) * 2 ** 20,
    location: 'US',
    project_id: 'acme-web-analytics',
    job_id: `b1d7c0de-${String(seed).padStart(4, '0')}-4f00-9a00-${String(rows).padStart(12, '0')}`,
    slot_ms: Math.round(rows / 7) + 900,
  };
}

const volumeDrop: Variant = {
  name: 'dbt-b-volume-drop-bigquery',
  source: 'dbt-empty-output-sessions',
  transformation:
    'adapter postgres -> bigquery (manifest adapter_type, real row counts in every adapter_response, history ' +
    'included); the vars are a valid date; fct_sessions builds 4.1 k rows (history 33-37 k) and ' +
    'fct_sessions_by_channel 41, while stg_segment__tracks loads its usual ~400 k events.',
  why:
    'Nothing errored, but fct_sessions produced ~12 % of its trailing median while its input was normal: ' +
    'silent.volume_drop, culprit fct_sessions (not empty: 4 k rows).',
  debatable:
    'No explicit cause is visible in the artifacts; the answer rests on the history comparison only.',
  apply: (s) => {
    let seed = 1;
    const edit = (r: Json, current: boolean) => {
      for (const x of r.results as Json[]) {
        const n = x.adapter_response?.rows_affected;
        if (typeof n !== 'number') continue;
        let rows = n;
        if (current && x.unique_id === 'model.web.fct_sessions') rows = 4127;
        if (current && x.unique_id === 'model.web.fct_sessions_by_channel') rows = 41;
        x.adapter_response = bq(rows, seed++);
        if (x.unique_id.includes('stg_')) {
          x.adapter_response.code = 'MERGE';
          x.adapter_response._message = x.adapter_response._message.replace('CREATE TABLE', 'MERGE');
        }
        x.message = x.adapter_response._message;
      }
      if (r.args?.vars) {
        r.args.vars = { session_date: current ? '2026-11-20' : r.args.vars.session_date };
        r.args.invocation_command = `dbt build --vars '{"session_date": "${r.args.vars.session_date}"}'`;
      }
    };
    for (const f of [...s.files.keys()].filter((k) => k.endsWith('run_results.json'))) {
      editJson(s, f, (r) => edit(r, f === RR));
    }
    editJson(s, 'files/target/manifest.json', (m) => {
      m.metadata.adapter_type = 'bigquery';
    });
    replaceEverywhere(s, [
      ["'2026-11-21'", "'2026-11-20'"],
      ['"session_date": "2026-11-21"', '"session_date": "2026-11-20"'],
      ['session_date=2026-11-21', 'session_date=2026-11-20'],
      ['Registered adapter: postgres=1.8.2', 'Registered adapter: bigquery=1.8.3'],
    ]);
    editText(s, 'files/logs/dbt.log', (t) =>
      t
        .replace(/\[INSERT 0 (\d+) in/g, (_, n) => `[MERGE (${(+n / 1000).toFixed(1)}k rows) in`)
        .replace(/web\.fct_sessions \.+ \[SELECT 0 in/, (m) =>
          m.replace('SELECT 0', 'CREATE TABLE (4.1k rows)'),
        )
        .replace(/web\.fct_sessions_by_channel \.+ \[SELECT 0 in/, (m) =>
          m.replace('SELECT 0', 'CREATE TABLE (41 rows)'),
        ),
    );
    s.manifest.expect = {
      category: 'silent.volume_drop',
      culprit: { kind: 'model', id: 'model.web.fct_sessions', aliases: ['fct_sessions'] },
      alternatives: ['silent.empty_output', 'dbt.test_failure', 'dbt.source_stale'],
    };
  },
};

export const dbtBlind: Variant[] = [typeMismatch, permission, compileWithWarn, volumeDrop];
