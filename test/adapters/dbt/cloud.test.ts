import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dbtAdapter } from '../../../src/adapters/dbt/index.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';
import { artifactsFrom, cloudRun, startFakeDbtCloud } from '../../support/fakeDbtCloud.ts';

const SCEN = join(import.meta.dirname, '..', '..', 'scenarios');
let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

function ctx(base: string, token = 'tok-good') {
  const config = loadConfig({
    DBT_CLOUD_URL: base,
    DBT_CLOUD_ACCOUNT_ID: '1',
    DBT_CLOUD_TOKEN: token,
    LOG_LEVEL: 'silent',
  });
  return { config, log: createLogger('silent') };
}

async function fake(override?: Record<string, { status: number; body: string }>) {
  const failing = artifactsFrom(join(SCEN, 'dbt-missing-column-fct-orders', 'files', 'target'));
  const healthy = artifactsFrom(join(SCEN, 'dbt-unique-test-duplicates', 'files', 'target'));
  const logs =
    '04:10:07 [error] Database Error in model fct_orders\n  column o.discount_amount does not exist\n';
  const server = await startFakeDbtCloud({
    accountId: '1',
    token: 'tok-good',
    runs: [
      {
        run: cloudRun(900, 7, 20, {
          git_sha: 'abc1234def',
          run_steps: [{ id: 1, name: 'dbt build', status: 20, logs }],
        }),
        artifacts: failing,
      },
      { run: cloudRun(899, 7, 10), artifacts: { 'run_results.json': healthy['run_results.json'] } },
    ],
    ...(override ? { override } : {}),
  });
  close = server.close;
  return server;
}

describe('dbt Cloud client against a fake Admin API v2', () => {
  it('pins the run to its id, invocation and git sha, and collects artifacts, step logs and history', async () => {
    const s = await fake();
    const c = ctx(s.base);
    const pin = await dbtAdapter.pin({ platform: 'dbt', cloudRunId: '900' }, c);
    expect(pin.status).toBe('ok');
    if (pin.status !== 'ok') return;
    expect(pin.data.pinned.codeRef).toBe('abc1234def');
    expect(pin.data.pinned.ref).toContain('900');
    expect(pin.data.pinned.ref).toContain('af1ec616');
    const col = await dbtAdapter.collect(pin.data, c);
    expect(col.facts.cloud?.steps[0]?.lines.some((l) => l.text.includes('discount_amount'))).toBe(true);
    expect(col.facts.history).toHaveLength(1);
    const out = dbtAdapter.rules(col, pin.data);
    expect(out.findings[0]?.category).toBe('dbt.missing_column');
    expect(s.requests.some((r) => r.includes('job_definition_id=7') && r.includes('order_by=-id'))).toBe(
      true,
    );
  });

  it('reports a bad token (401) as an upstream error, not a crash', async () => {
    const s = await fake();
    const pin = await dbtAdapter.pin({ platform: 'dbt', cloudRunId: '900' }, ctx(s.base, 'wrong'));
    expect(pin).toMatchObject({ status: 'error', httpStatus: 401 });
  });

  it('answers no_data for an unknown run (404)', async () => {
    const s = await fake();
    const pin = await dbtAdapter.pin({ platform: 'dbt', cloudRunId: '12345' }, ctx(s.base));
    expect(pin).toMatchObject({ status: 'no_data', httpStatus: 404 });
  });

  it('turns a 500 on an artifact and garbage JSON into gaps', async () => {
    const s = await fake({
      '/runs/900/artifacts/manifest.json': { status: 500, body: 'boom' },
      '/runs/900/artifacts/run_results.json': { status: 200, body: '{not json' },
    });
    const c = ctx(s.base);
    const pin = await dbtAdapter.pin({ platform: 'dbt', cloudRunId: '900' }, c);
    expect(pin.status).toBe('ok');
    if (pin.status !== 'ok') return;
    const col = await dbtAdapter.collect(pin.data, c);
    expect(col.gaps.join('\n')).toMatch(/HTTP 500/);
    expect(col.gaps.join('\n')).toMatch(/malformed JSON/);
    expect(col.facts.results).toHaveLength(0);
  });

  it('says which variables are missing when dbt Cloud is not configured', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent' });
    const pin = await dbtAdapter.pin(
      { platform: 'dbt', cloudRunId: '1' },
      { config, log: createLogger('silent') },
    );
    expect(pin.status === 'error' && pin.message).toMatch(/DBT_CLOUD_URL/);
  });
});
