import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectAirflow, MAX_PAGES, PAGE_LIMIT } from '../../../src/adapters/airflow/client.ts';
import { TaskInstanceCollection } from '../../../src/adapters/airflow/schema.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** An Airflow 2 list endpoint of `total` rows whose server caps `limit` at `cap`; `failAt` offset → 503. */
async function lister(total: number, cap: number, failAt?: number) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api/v1/version') return send(200, { version: '2.10.2' });
    if (!url.pathname.startsWith('/api/v1/dags/')) return send(404, { detail: 'not found' });
    seen.push(url.search);
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 100), cap);
    const offset = Number(url.searchParams.get('offset') ?? 0);
    if (offset === failAt) return send(503, { title: 'Service Unavailable', status: 503 });
    const rows = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => ({
      task_id: 't',
      map_index: offset + i,
      state: 'success',
      try_number: 1,
    }));
    send(200, { task_instances: rows, total_entries: total });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  close = () => new Promise<void>((r) => server.close(() => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ctx = { config: loadConfig({ AIRFLOW_BASE_URL: base }), log: createLogger('silent') };
  const c = await connectAirflow(ctx);
  if (c.status !== 'ok') throw new Error(c.message);
  const list = () =>
    c.data.list('/dags/d/dagRuns/r/taskInstances', TaskInstanceCollection, (p) => p.task_instances);
  return { seen, list };
}

describe('AirflowClient.list: every page, bounded', () => {
  it('reads past a smaller server page cap by advancing the offset by the rows read', async () => {
    const l = await lister(95, 30);
    const got = await l.list();
    expect(got.status === 'ok' && got.data.items.map((x) => x.map_index)).toEqual(
      Array.from({ length: 95 }, (_, i) => i),
    );
    expect(l.seen).toEqual([0, 30, 60, 90].map((o) => `?limit=${PAGE_LIMIT}&offset=${o}`));
  });

  it('stops at the page cap and says what was not read', async () => {
    const l = await lister(1_000_000, 100);
    const got = await l.list();
    expect(l.seen).toHaveLength(MAX_PAGES);
    expect(got.status === 'ok' && got.data.items.length).toBe(MAX_PAGES * PAGE_LIMIT);
    expect(got.status === 'ok' && got.data.incomplete).toMatch(/read 5000 of 1000000 rows .*not read/);
  });

  it('keeps the rows read when a later page fails, and fails when the first does', async () => {
    const later = await lister(250, 100, 200);
    const got = await later.list();
    expect(got.status === 'ok' && got.data.items.length).toBe(200);
    expect(got.status === 'ok' && got.data.incomplete).toMatch(/503.*after 200 rows/);
    await close?.();
    const first = await lister(250, 100, 0);
    expect((await first.list()).status).toBe('error');
  });
});
