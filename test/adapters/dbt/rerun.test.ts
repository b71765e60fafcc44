import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dbtRerun } from '../../../src/adapters/dbt/rerun.ts';
import type { PinResult } from '../../../src/adapters/types.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';
import { cloudRun } from '../../support/fakeDbtCloud.ts';

const pin = (runId: string): PinResult => ({
  pinned: { ref: `dbt Cloud run ${runId}`, codeRef: null, dataRef: null, deterministic: false },
  target: { platform: 'dbt', cloudRunId: runId },
});
const env = (code: number, data: unknown) =>
  JSON.stringify({ status: { code, is_success: code < 400 }, data });

/** dbt Cloud Admin API v2: runs, the job's runs list (newest first) and POST jobs/{id}/rerun/. */
async function cloud(runs: Record<string, unknown>[]) {
  const posts: string[] = [];
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    if (req.headers.authorization !== 'Bearer tok') return send(401, env(401, null));
    const rest = u.pathname.replace('/api/v2/accounts/7', '');
    const job = rest.match(/^\/jobs\/(\d+)\/rerun\/$/);
    if (req.method === 'POST' && job) {
      posts.push(rest);
      const next = cloudRun(900, Number(job[1]), 10, { status: 1, status_humanized: 'Queued' });
      runs.push(next);
      return send(200, env(200, next));
    }
    if (rest === '/runs/') {
      const list = runs
        .filter((r) => String(r.job_definition_id) === u.searchParams.get('job_definition_id'))
        .sort((a, b) => Number(b.id) - Number(a.id));
      return send(200, env(200, list.slice(0, 1)));
    }
    const m = rest.match(/^\/runs\/(\d+)\/$/);
    const run = runs.find((r) => String(r.id) === m?.[1]);
    return run ? send(200, env(200, run)) : send(404, env(404, null));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ctx = {
    config: loadConfig({ DBT_CLOUD_URL: base, DBT_CLOUD_ACCOUNT_ID: '7', DBT_CLOUD_TOKEN: 'tok' }),
    log: createLogger('silent'),
  };
  return { posts, ctx, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('dbt Cloud rerun from failure', () => {
  it('has no rerun path for a local target dir, and says why', () => {
    const r = dbtRerun.supports({ platform: 'dbt', path: '/tmp/target' });
    expect(r.ok === false && r.why).toMatch(/local dbt target/);
  });

  it('reruns the job of the pinned failed run and follows the new run', async () => {
    const c = await cloud([cloudRun(500, 42, 20)]);
    close = c.close;
    expect(await dbtRerun.preview(pin('500'), c.ctx)).toMatchObject({ status: 'ok' });
    expect(c.posts).toEqual([]);
    const started = await dbtRerun.execute(pin('500'), c.ctx);
    expect(c.posts).toEqual(['/jobs/42/rerun/']);
    if (started.status !== 'ok') throw new Error('not started');
    expect(started.data.handle).toEqual({ runId: '900' });
    expect(await dbtRerun.follow(pin('500'), started.data, c.ctx)).toMatchObject({
      data: { state: 'running' },
    });
  });

  it('refuses when the job has a newer run than the pinned one (rerun would act on that one)', async () => {
    const c = await cloud([cloudRun(500, 42, 20), cloudRun(501, 42, 10)]);
    close = c.close;
    const r = await dbtRerun.execute(pin('500'), c.ctx);
    expect(r.status === 'no_data' && r.message).toMatch(/newer run \(501/);
    expect(c.posts).toEqual([]);
  });
});
