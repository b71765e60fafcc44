import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dbtAdapter } from '../../../src/adapters/dbt/index.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';
import { artifactsFrom, cloudRun, startFakeDbtCloud } from '../../support/fakeDbtCloud.ts';

/**
 * A multi-step dbt Cloud job (clone, profile, deps, source freshness, build, docs generate), as the Admin API
 * v2 shapes it: `run_steps` with 1-based `index` and statuses 10 (Success) / 20 (Error). Artifacts fetched
 * without `?step=` are the last step's (docs generate): the failing step's must be asked for by its index.
 */
const SCEN = join(import.meta.dirname, '..', '..', 'scenarios');
let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

const ctx = (base: string) => ({
  config: loadConfig({
    DBT_CLOUD_URL: base,
    DBT_CLOUD_ACCOUNT_ID: '1',
    DBT_CLOUD_TOKEN: 'tok',
    LOG_LEVEL: 'silent',
  }),
  log: createLogger('silent'),
});

const step = (index: number, name: string, status: 10 | 20, logs = '') => ({
  id: 5000 + index,
  run_id: 950,
  account_id: 1,
  index,
  name,
  status,
  status_humanized: status === 10 ? 'Success' : 'Error',
  logs,
});

/** What `dbt docs generate` leaves as the run's last run_results.json: no node failed. */
function docsGenerate(rr: Record<string, unknown>) {
  const metadata = { ...(rr.metadata as Record<string, unknown>), invocation_id: 'docs-generate-invocation' };
  return { ...rr, metadata, results: [], args: { which: 'generate' } };
}

async function multiStep(scenario: string, buildStatus: 10 | 20, freshnessStatus: 10 | 20) {
  const art = artifactsFrom(join(SCEN, scenario, 'files', 'target'));
  const last = { 'run_results.json': docsGenerate(art['run_results.json'] as Record<string, unknown>) };
  const server = await startFakeDbtCloud({
    accountId: '1',
    token: 'tok',
    runs: [
      {
        run: cloudRun(950, 7, 20, {
          run_steps: [
            step(1, 'Clone git repository', 10),
            step(2, 'Create profile from connection Postgres', 10),
            step(3, 'Invoke dbt with `dbt deps`', 10),
            step(4, 'Invoke dbt with `dbt source freshness`', freshnessStatus),
            step(5, 'Invoke dbt with `dbt build`', buildStatus, '[error] see run_results.json'),
            step(6, 'Invoke dbt with `dbt docs generate`', 10),
          ],
        }),
        artifacts: last,
        steps: {
          4: { 'sources.json': art['sources.json'] },
          5: { 'run_results.json': art['run_results.json'], 'manifest.json': art['manifest.json'] },
          6: last,
        },
      },
    ],
  });
  close = server.close;
  return server;
}

async function investigate(base: string) {
  const c = ctx(base);
  const pin = await dbtAdapter.pin({ platform: 'dbt', cloudRunId: '950' }, c);
  if (pin.status !== 'ok') throw new Error(pin.message);
  const col = await dbtAdapter.collect(pin.data, c);
  return { col, out: dbtAdapter.rules(col, pin.data) };
}

describe('dbt Cloud artifacts come from the step that matters, named in evidence', () => {
  it('run_results.json and manifest.json of the errored `dbt build` step (step=5), not the last step', async () => {
    const s = await multiStep('dbt-missing-column-fct-orders', 20, 10);
    const { col, out } = await investigate(s.base);
    expect(s.requests).toContain('/api/v2/accounts/1/runs/950/artifacts/run_results.json?step=5');
    expect(s.requests).toContain('/api/v2/accounts/1/runs/950/artifacts/manifest.json?step=5');
    expect(col.facts.invocationId).toBe('af1ec616-a338-402b-89af-e62dac3d4b1f');
    expect(out.findings.find((f) => f.status === 'confirmed')?.category).toBe('dbt.missing_column');
    const run = col.evidence.find((e) => e.source === 'dbt.run_results');
    expect(run?.excerpt).toMatch(/run_results\.json from step 5 \(Invoke dbt with `dbt build`, Error\)/);
  });

  it('sources.json of the `dbt source freshness` step (step=4), even when a later step is the one that errored', async () => {
    const s = await multiStep('dbt-source-freshness-error', 20, 20);
    const { col, out } = await investigate(s.base);
    expect(s.requests).toContain('/api/v2/accounts/1/runs/950/artifacts/sources.json?step=4');
    expect(col.facts.freshness.some((f) => f.uniqueId === 'source.shop.stripe.payments')).toBe(true);
    expect(out.findings.find((f) => f.status === 'confirmed')?.category).toBe('dbt.source_stale');
    const run = col.evidence.find((e) => e.source === 'dbt.run_results');
    expect(run?.excerpt).toMatch(/sources\.json from step 4 \(Invoke dbt with `dbt source freshness`/);
  });

  it('a run without run_steps still reads the default (last step) artifacts', async () => {
    const art = artifactsFrom(join(SCEN, 'dbt-missing-column-fct-orders', 'files', 'target'));
    const server = await startFakeDbtCloud({
      accountId: '1',
      token: 'tok',
      runs: [{ run: cloudRun(950, 7, 20), artifacts: art }],
    });
    close = server.close;
    const { out } = await investigate(server.base);
    expect(server.requests.filter((r) => r.includes('step='))).toEqual([]);
    expect(out.findings.find((f) => f.status === 'confirmed')?.category).toBe('dbt.missing_column');
  });
});
