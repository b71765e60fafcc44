import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdapterContext } from '../../../src/adapters/types.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';

/*
 * A fake Airflow (2: /api/v1 with basic auth, or 3: /api/v2 with a bearer token) that behaves like the
 * real server where Heal used to go wrong: list endpoints cap `limit` at 100 silently ([api]
 * maximum_page_limit) and page with `offset` / `total_entries`; a mapped task answers 404 on its
 * unmapped routes (`…/taskInstances/load`, `…/load/tries`, logs without `map_index`) and serves
 * `…/load/{map_index}`, `…/load/{map_index}/tries` and `…/logs/{try}?map_index=`. Airflow 2's
 * clearTaskInstances only takes task id strings (the v1 spec); Airflow 3's takes `[task_id, map_index]`.
 */

export const DAG = 'mapped_dag';
export const RUN = 'scheduled__2026-11-20T02:00:00+00:00';
export const MAPPED = 150;
export const FAILED_INDEX = 140;
export const OTHER_IMPORT_ERRORS = 130;
const MAX_LIMIT = 100;

const ti = (task_id: string, map_index: number, state: string, try_number = 1) => ({
  dag_id: DAG,
  dag_run_id: RUN,
  task_id,
  map_index,
  state,
  try_number,
  duration: state === 'upstream_failed' ? null : 12.5,
  start_date: '2026-11-21T02:00:05+00:00',
  end_date:
    state === 'upstream_failed' ? null : `2026-11-21T02:0${map_index === FAILED_INDEX ? 4 : 1}:00+00:00`,
  hostname: 'worker-1',
  operator: 'PythonOperator',
});

const instances = [
  ti('extract', -1, 'success'),
  ...Array.from({ length: MAPPED }, (_, i) =>
    i === FAILED_INDEX ? ti('load', i, 'failed', 2) : ti('load', i, 'success'),
  ),
  ti('report', -1, 'upstream_failed', 0),
];

const importErrors = Array.from({ length: OTHER_IMPORT_ERRORS }, (_, i) => ({
  import_error_id: i + 1,
  filename: `/opt/airflow/dags/other_${i}.py`,
  stack_trace: 'SyntaxError: invalid syntax',
  timestamp: '2026-11-20T00:00:00+00:00',
}));

const LOG = [
  '[2026-11-21, 02:03:00 UTC] {taskinstance.py:2731} INFO - Starting attempt 2 of 2',
  '[2026-11-21, 02:03:10 UTC] {logging_mixin.py:190} INFO - loading partition 140 (2.1 GB)',
  '[2026-11-21, 02:04:00 UTC] {local_task_job_runner.py:266} INFO - Task exited with return code Negsignal.SIGKILL',
  '',
].join('\n');

function page<T>(items: T[], q: URLSearchParams): { items: T[]; total_entries: number } {
  const limit = Math.min(Number(q.get('limit') ?? 100) || 100, MAX_LIMIT);
  const offset = Number(q.get('offset') ?? 0) || 0;
  return { items: items.slice(offset, offset + limit), total_entries: items.length };
}

const notFound = (detail: string) => ({ detail, status: 404, title: 'Not Found', type: 'about:blank' });
const mappedDetail = 'Task instance is mapped, add the map_index value to the URL';

type Send = (status: number, body: unknown, type?: string) => void;

function clear(major: 2 | 3, body: Record<string, unknown>, send: Send) {
  const ids = (body.task_ids ?? []) as unknown[];
  if (major === 2 && ids.some((x) => typeof x !== 'string'))
    return send(400, {
      detail: `${JSON.stringify(ids.find((x) => typeof x !== 'string'))} is not of type 'string' - 'task_ids.0'`,
      status: 400,
      title: 'Bad Request',
    });
  const chosen = instances.filter((x) =>
    ids.some((id) => (Array.isArray(id) ? id[0] === x.task_id && id[1] === x.map_index : id === x.task_id)),
  );
  const failed = chosen.filter((x) => x.state === 'failed');
  const downstream = body.include_downstream ? instances.filter((x) => x.task_id === 'report') : [];
  const refs = [...failed, ...downstream].map((x) =>
    major === 2
      ? { dag_id: DAG, dag_run_id: RUN, task_id: x.task_id, execution_date: '2026-11-20T02:00:00+00:00' }
      : x,
  );
  return send(200, { task_instances: refs, total_entries: refs.length });
}

function get(path: string, q: URLSearchParams, send: Send) {
  const run = `/dags/${DAG}/dagRuns/${RUN}`;
  const tis = `${run}/taskInstances`;
  if (path === `/dags/${DAG}`)
    return send(200, { dag_id: DAG, fileloc: `/opt/airflow/dags/${DAG}.py`, has_import_errors: false });
  if (path === `/dags/${DAG}/tasks`)
    return send(200, {
      tasks: [
        { task_id: 'extract', downstream_task_ids: ['load'] },
        { task_id: 'load', downstream_task_ids: ['report'], retries: 1 },
        { task_id: 'report', downstream_task_ids: [] },
      ],
    });
  if (path === run)
    return send(200, {
      dag_id: DAG,
      dag_run_id: RUN,
      state: 'failed',
      logical_date: '2026-11-20T02:00:00+00:00',
    });
  if (path === `/dags/${DAG}/dagRuns`) {
    const p = page(
      [{ dag_id: DAG, dag_run_id: RUN, state: 'failed', logical_date: '2026-11-20T02:00:00+00:00' }],
      q,
    );
    return send(200, { dag_runs: p.items, total_entries: p.total_entries });
  }
  if (path === tis) {
    const p = page(instances, q);
    return send(200, { task_instances: p.items, total_entries: p.total_entries });
  }
  if (path === '/importErrors') {
    const p = page(importErrors, q);
    return send(200, { import_errors: p.items, total_entries: p.total_entries });
  }
  if (path === `${tis}/load` || path === `${tis}/load/tries`) return send(404, notFound(mappedDetail));
  const m = path.match(/^(.*)\/taskInstances\/load\/(\d+)(\/tries)?$/);
  if (m && m[1] === run) {
    const one = instances.find((x) => x.task_id === 'load' && x.map_index === Number(m[2]));
    if (!one) return send(404, notFound('Task instance not found'));
    if (!m[3]) return send(200, one);
    const tries = Array.from({ length: one.try_number }, (_, k) => ({ ...one, try_number: k + 1 }));
    return send(200, { task_instances: tries, total_entries: tries.length });
  }
  const log = path.match(/^(.*)\/taskInstances\/load\/logs\/(\d+)$/);
  if (log && log[1] === run) {
    if (q.get('map_index') !== String(FAILED_INDEX))
      return send(404, notFound(`TaskInstance not found for map_index ${q.get('map_index') ?? -1}`));
    return send(200, LOG, 'text/plain');
  }
  return send(404, notFound('not found'));
}

/** Starts the fake; `requests` records every `path?query` seen, `clears` every clearTaskInstances body. */
export async function fakeMappedAirflow(major: 2 | 3) {
  const root = major === 3 ? '/api/v2' : '/api/v1';
  const requests: string[] = [];
  const clears: Record<string, unknown>[] = [];
  const server = createServer((req, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = decodeURIComponent(url.pathname);
      requests.push(`${req.method} ${path}${url.search}`);
      const send: Send = (status, body, type = 'application/json') => {
        res.writeHead(status, { 'content-type': type });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      if (path === `${root}/version`) return send(200, { version: major === 3 ? '3.2.0' : '2.10.2' });
      if (!path.startsWith(root)) return send(404, notFound('not found'));
      const auth = major === 3 ? 'Bearer tok' : `Basic ${Buffer.from('u:p').toString('base64')}`;
      if (req.headers.authorization !== auth) return send(401, { detail: 'Not authenticated' });
      const rest = path.slice(root.length);
      if (req.method === 'POST' && rest === `/dags/${DAG}/clearTaskInstances`) {
        const body = JSON.parse(raw) as Record<string, unknown>;
        clears.push(body);
        return clear(major, body, send);
      }
      return get(rest, url.searchParams, send);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env: Record<string, string> =
    major === 3
      ? { AIRFLOW_BASE_URL: base, AIRFLOW_TOKEN: 'tok' }
      : { AIRFLOW_BASE_URL: base, AIRFLOW_USERNAME: 'u', AIRFLOW_PASSWORD: 'p' };
  const ctx: AdapterContext = { config: loadConfig(env), log: createLogger('silent') };
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return { base, ctx, requests, clears, close };
}
