import { describe, expect, it } from 'vitest';
import { connectAirflow, jwtExpiry } from '../../../src/adapters/airflow/client.ts';
import { streamTryLog } from '../../../src/adapters/airflow/logs.ts';
import { DagRun } from '../../../src/adapters/airflow/schema.ts';
import { ctxFor, json, loopbackServers } from '../../support/loopback.ts';

const { serve, closeLast } = loopbackServers();
const RUN = { dag_run_id: 'scheduled__2026-01-01T00:00:00+00:00', dag_id: 'd', state: 'failed' };
const jwt = (exp: number) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.c2lnbmF0dXJlc2ln`;

describe('connectAirflow and AirflowClient', () => {
  it('speaks Airflow 2 with basic auth and encodes run ids in paths', async () => {
    const seen: string[] = [];
    const base = await serve((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === '/api/v1/version') return json(res, 200, { version: '2.10.2' });
      const want = `Basic ${Buffer.from('u:p').toString('base64')}`;
      if (req.headers.authorization !== want) return json(res, 401, { title: 'Unauthorized' });
      if (req.url === '/api/v1/dags/d/dagRuns/scheduled__2026-01-01T00%3A00%3A00%2B00%3A00')
        return json(res, 200, RUN);
      json(res, 404, { detail: 'not found' });
    });
    const c = await connectAirflow(
      ctxFor({ AIRFLOW_BASE_URL: base, AIRFLOW_USERNAME: 'u', AIRFLOW_PASSWORD: 'p' }),
    );
    expect(c.status).toBe('ok');
    if (c.status !== 'ok') return;
    expect(c.data.major).toBe(2);
    const r = await c.data.get(`/dags/d/dagRuns/${encodeURIComponent(RUN.dag_run_id)}`, DagRun);
    expect(r).toMatchObject({ status: 'ok', data: { state: 'failed' } });
    expect(seen[0]).toBe('/api/v2/version');
  });

  it('speaks Airflow 3: logs in for a JWT and refreshes it once on a 401', async () => {
    let issued = 0;
    let valid = '';
    const base = await serve((req, res) => {
      if (req.method === 'POST' && req.url === '/auth/token') {
        issued++;
        valid = jwt(4102444800 + issued);
        return json(res, 201, { access_token: valid });
      }
      if (req.headers.authorization !== `Bearer ${valid}`)
        return json(res, 401, { detail: 'Not authenticated' });
      if (req.url === '/api/v2/version') return json(res, 200, { version: '3.2.0' });
      if (req.url === '/api/v2/dags/d/dagRuns/r') {
        valid = 'rotated-server-side'; // the next call with the old token fails → one refresh
        return json(res, 200, { ...RUN, dag_run_id: 'r' });
      }
      if (req.url === '/api/v2/dags/d/dagRuns/r2') return json(res, 200, { ...RUN, dag_run_id: 'r2' });
      json(res, 404, { detail: 'not found' });
    });
    const c = await connectAirflow(
      ctxFor({ AIRFLOW_BASE_URL: base, AIRFLOW_USERNAME: 'u', AIRFLOW_PASSWORD: 'p' }),
    );
    expect(c.status).toBe('ok');
    if (c.status !== 'ok') return;
    expect(c.data.major).toBe(3);
    expect(c.data.version).toBe('3.2.0');
    expect((await c.data.get('/dags/d/dagRuns/r', DagRun)).status).toBe('ok');
    expect((await c.data.get('/dags/d/dagRuns/r2', DagRun)).status).toBe('ok');
    expect(issued).toBe(2);
  });

  it('turns 404, 500, garbage JSON, a wrong shape, a timeout and a down server into results', async () => {
    const base = await serve((req, res) => {
      if (req.url === '/api/v1/version') return json(res, 200, { version: '2.9.3' });
      if (req.url === '/api/v1/e500') return json(res, 500, { detail: 'boom' });
      if (req.url === '/api/v1/garbage') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"dag_run_id": ');
      }
      if (req.url === '/api/v1/shape') return json(res, 200, { nope: true });
      if (req.url === '/api/v1/slow') return void setTimeout(() => json(res, 200, RUN), 2000);
      json(res, 404, { detail: 'not found' });
    });
    const c = await connectAirflow(ctxFor({ AIRFLOW_BASE_URL: base, HEAL_HTTP_TIMEOUT_MS: '300' }));
    if (c.status !== 'ok') throw new Error(c.message);
    expect(await c.data.get('/missing', DagRun)).toMatchObject({ status: 'no_data', httpStatus: 404 });
    expect(await c.data.get('/e500', DagRun)).toMatchObject({
      status: 'error',
      retryable: true,
      httpStatus: 500,
    });
    expect(await c.data.get('/garbage', DagRun)).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/malformed JSON/),
    });
    expect(await c.data.get('/shape', DagRun)).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/unexpected shape/),
    });
    expect(await c.data.get('/slow', DagRun)).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/timed out after 300 ms/),
    });
    const closed = await serve(() => {});
    await closeLast();
    const down = await connectAirflow(ctxFor({ AIRFLOW_BASE_URL: closed }));
    expect(down).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/unreachable.*connection refused/),
    });
    const none = await connectAirflow(ctxFor({}));
    expect(none).toMatchObject({ status: 'error', message: expect.stringMatching(/AIRFLOW_BASE_URL/) });
  });

  it('reads a JWT expiry', () => {
    expect(jwtExpiry(jwt(123))).toBe(123);
    expect(jwtExpiry('not-a-jwt')).toBeUndefined();
  });
});

describe('streamTryLog', () => {
  it('asks Airflow 3 for ndjson and renders error_detail as a traceback, redacting secrets', async () => {
    let accept = '';
    const base = await serve((req, res) => {
      if (req.url === '/api/v2/version') return json(res, 200, { version: '3.2.0' });
      if (req.url?.startsWith('/api/v2/dags/d/dagRuns/r%3A1/taskInstances/t/logs/2')) {
        accept = String(req.headers.accept);
        if (!accept.includes('ndjson'))
          return json(res, 406, { detail: 'Only application/json or application/x-ndjson is supported' });
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write(`${JSON.stringify({ level: 'info', event: 'password=hunter22secret connecting' })}\n`);
        return res.end(
          `${JSON.stringify({ level: 'error', event: 'Task failed with exception', error_detail: [{ exc_type: 'KeyError', exc_value: "'amount'", frames: [{ filename: 'x.py', lineno: 3, name: 'f' }] }] })}\n`,
        );
      }
      json(res, 404, { detail: 'not found' });
    });
    const ctx = ctxFor({ AIRFLOW_BASE_URL: base, AIRFLOW_TOKEN: 'static-token' });
    const c = await connectAirflow(ctx);
    if (c.status !== 'ok') throw new Error(c.message);
    const log = await streamTryLog(
      c.data,
      ctx,
      { dagId: 'd', runId: 'r:1', taskId: 't', tryNumber: 2 },
      () => {},
    );
    expect(accept).toContain('application/x-ndjson');
    if (log.status !== 'ok') throw new Error(log.message);
    const text = log.data.lines.map((l) => l.text).join('\n');
    expect(text).toContain("KeyError: 'amount'");
    expect(text).not.toContain('hunter22secret');
  });
});
