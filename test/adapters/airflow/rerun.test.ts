import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { airflowRerun, clearBody, failedTries } from '../../../src/adapters/airflow/rerun.ts';
import type { PinResult } from '../../../src/adapters/types.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';

const RUN = 'manual__2026-03-01T00:00:00+00:00';
const pin: PinResult = {
  pinned: {
    ref: `sales/${RUN}@v4#load_orders:try2#load.refunds:try1`,
    codeRef: null,
    dataRef: null,
    deterministic: false,
  },
  target: { platform: 'airflow', dagId: 'sales', runId: RUN },
};

/** A minimal Airflow 2 API: version, clearTaskInstances (answering `clearAnswer`) and task instances. */
async function airflow(clearAnswer: (body: Record<string, unknown>) => unknown, tiState = 'running') {
  const posts: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (path === '/api/v1/version') return send(200, { version: '2.10.2' });
      if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`)
        return send(401, {});
      if (req.method === 'POST' && path === '/api/v1/dags/sales/clearTaskInstances') {
        const body = JSON.parse(raw);
        posts.push(body);
        return send(200, clearAnswer(body));
      }
      const ti = path.match(/taskInstances\/([^/]+)$/);
      if (ti) return send(200, { task_id: ti[1], state: tiState, try_number: 3 });
      return send(404, { detail: 'not found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ctx = {
    config: loadConfig({ AIRFLOW_BASE_URL: base, AIRFLOW_USERNAME: 'u', AIRFLOW_PASSWORD: 'p' }),
    log: createLogger('silent'),
  };
  return { posts, ctx, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const refs = (ids: string[], runId = RUN) => ({
  task_instances: ids.map((task_id) => ({ dag_id: 'sales', dag_run_id: runId, task_id })),
});

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('Airflow rerun: clearTaskInstances', () => {
  it('reads the failed tasks from the pin, not from the run as it is now', () => {
    expect(failedTries(pin)).toEqual([
      { taskId: 'load_orders', tryNumber: 2 },
      { taskId: 'load.refunds', tryNumber: 1 },
    ]);
    expect(clearBody(RUN, ['a'], true)).toMatchObject({ dag_run_id: RUN, dry_run: true, only_failed: true });
  });

  it('previews with dry_run true, clears with dry_run false, for the pinned run only', async () => {
    const a = await airflow((b) => refs([...(b.task_ids as string[]), 'report']));
    close = a.close;
    const plan = await airflowRerun.preview(pin, a.ctx);
    expect(plan).toMatchObject({ status: 'ok', data: { items: ['load_orders', 'load.refunds', 'report'] } });
    const started = await airflowRerun.execute(pin, a.ctx);
    expect(started.status).toBe('ok');
    expect(a.posts.map((p) => [p.dry_run, p.dag_run_id, p.task_ids])).toEqual([
      [true, RUN, ['load_orders', 'load.refunds']],
      [false, RUN, ['load_orders', 'load.refunds']],
    ]);
  });

  it('refuses when the dry run would touch another run, and says when nothing would be cleared', async () => {
    const other = await airflow(() => refs(['load_orders'], 'scheduled__other'));
    close = other.close;
    const r = await airflowRerun.preview(pin, other.ctx);
    expect(r.status === 'error' && r.message).toMatch(/another run .*scheduled__other/);
    await other.close();
    const none = await airflow(() => refs([]));
    close = none.close;
    const n = await airflowRerun.preview(pin, none.ctx);
    expect(n.status === 'no_data' && n.message).toMatch(/would clear nothing/);
  });

  it('follows the new try: running until every cleared task has a later try that ended', async () => {
    const a = await airflow(() => refs([]), 'success');
    close = a.close;
    const started = { items: [], summary: '', handle: { runId: RUN, tries: failedTries(pin) } };
    expect(await airflowRerun.follow(pin, started, a.ctx)).toMatchObject({
      status: 'ok',
      data: { state: 'succeeded' },
    });
    await a.close();
    const b = await airflow(() => refs([]), 'failed');
    close = b.close;
    expect(await airflowRerun.follow(pin, started, b.ctx)).toMatchObject({ data: { state: 'failed' } });
    const stale = { ...started, handle: { runId: RUN, tries: [{ taskId: 'load_orders', tryNumber: 3 }] } };
    expect(await airflowRerun.follow(pin, stale, b.ctx)).toMatchObject({ data: { state: 'running' } });
  });
});
