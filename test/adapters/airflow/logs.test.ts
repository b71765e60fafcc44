import { describe, expect, it } from 'vitest';
import { connectAirflow } from '../../../src/adapters/airflow/client.ts';
import { renderMessage, streamTryLog } from '../../../src/adapters/airflow/logs.ts';
import { ctxFor, json, loopbackServers } from '../../support/loopback.ts';

const { serve } = loopbackServers();
const nd = (...msgs: unknown[]) => msgs.map((m) => `${JSON.stringify(m)}\n`).join('');
const LOG_PATH = '/api/v2/dags/d/dagRuns/r/taskInstances/t/logs/1';
const tokenOf = (url: string | undefined) => new URL(url ?? '/', 'http://x').searchParams.get('token');

/** Shapes as Airflow 3 writes them: supervisor.py process_log fields, structlog dict tracebacks. */
const HEADER = [
  { event: '::group::Log message source details', sources: ['/opt/airflow/logs/attempt=1.log'] },
  { event: '::endgroup::' },
];
const msg = (ts: string, level: string, event: string, extra: Record<string, unknown> = {}) => ({
  timestamp: `2026-11-20T03:${ts}Z`,
  level,
  event,
  logger: 'task',
  ...extra,
});

async function readLog(base: string, env: Record<string, string> = {}) {
  const ctx = ctxFor({ AIRFLOW_BASE_URL: base, AIRFLOW_TOKEN: 'static-token', ...env });
  const c = await connectAirflow(ctx);
  if (c.status !== 'ok') throw new Error(c.message);
  const notes: string[] = [];
  const log = await streamTryLog(c.data, ctx, { dagId: 'd', runId: 'r', taskId: 't', tryNumber: 1 }, (n) =>
    notes.push(n),
  );
  if (log.status !== 'ok') throw new Error(log.message);
  return { log: log.data, text: log.data.lines.map((l) => l.text).join('\n'), notes };
}

describe('renderMessage (Airflow 3 structured log lines)', () => {
  it('renders structured fields as key=value so the signal of a killed task is visible', () => {
    const [line] = renderMessage(
      msg('10:00.1', 'critical', 'Process terminated by signal. For more information, see …', {
        signal: -9,
        signal_name: 'SIGKILL',
        filename: 'supervisor.py',
        lineno: 911,
      }),
    );
    expect(line).toContain('CRITICAL');
    expect(line).toContain('signal=-9');
    expect(line).toContain('signal_name=SIGKILL');
    expect(line).not.toContain('lineno=');
  });

  it('renders nested detail as compact JSON and quotes values with spaces', () => {
    const [line] = renderMessage(
      msg('10:00.2', 'error', "Server indicated the task shouldn't be running anymore. Terminating process", {
        detail: { reason: 'not_running', current_state: 'failed' },
        note: 'two words',
      }),
    );
    expect(line).toContain('detail={"reason":"not_running","current_state":"failed"}');
    expect(line).toContain('note="two words"');
  });

  it('renders an exception chain cause-first, like a Python traceback, the raised one last', () => {
    const lines = renderMessage(
      msg('10:00.3', 'error', 'Task failed with exception', {
        error_detail: [
          {
            exc_type: 'AirflowException',
            exc_value: 'export failed',
            is_cause: false,
            frames: [{ filename: '/opt/airflow/dags/x.py', lineno: 9, name: 'run' }],
          },
          {
            exc_type: 'HTTPError',
            exc_value: '401 Client Error: Unauthorized for url: https://api.example.com/v1',
            is_cause: true,
            frames: [{ filename: '/opt/airflow/dags/x.py', lineno: 4, name: 'fetch' }],
          },
        ],
      }),
    );
    const text = lines.join('\n');
    expect(text.indexOf('HTTPError: 401')).toBeLessThan(text.indexOf('AirflowException: export failed'));
    expect(text).toContain('The above exception was the direct cause of the following exception:');
    expect(lines.at(-1)).toBe('AirflowException: export failed');
  });
});

describe('streamTryLog continuation (Airflow 3)', () => {
  it('follows the Airflow-Continuation-Token header of an ndjson response to read the rest', async () => {
    const seen: Array<string | null> = [];
    const base = await serve((req, res) => {
      if (req.url === '/api/v2/version') return json(res, 200, { version: '3.1.0' });
      if (!req.url?.startsWith(LOG_PATH)) return json(res, 404, { detail: 'not found' });
      const token = tokenOf(req.url);
      seen.push(token);
      if (!token) {
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'airflow-continuation-token': 'p2' });
        return res.end(nd(...HEADER, msg('10:01', 'info', 'Loading orders')));
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(
        nd(msg('10:09', 'critical', 'Process terminated by signal.', { signal: -9, signal_name: 'SIGKILL' })),
      );
    });
    const { text, log } = await readLog(base);
    expect(seen).toEqual([null, 'p2']);
    expect(text).toContain('signal_name=SIGKILL');
    expect(log.truncated).toBe(false);
  });

  it('stops when a page replays the log from its start (same token, same first lines)', async () => {
    let calls = 0;
    const base = await serve((req, res) => {
      if (req.url === '/api/v2/version') return json(res, 200, { version: '3.1.0' });
      if (!req.url?.startsWith(LOG_PATH)) return json(res, 404, { detail: 'not found' });
      calls++;
      // log.py computes the header before the stream runs, so it carries the request's own metadata:
      // following it re-reads the log from the start.
      res.writeHead(200, {
        'content-type': 'application/x-ndjson',
        'airflow-continuation-token': `t${calls}`,
      });
      res.end(nd(...HEADER, msg('10:01', 'error', 'Task failed with exception')));
    });
    const { log } = await readLog(base);
    expect(calls).toBeLessThanOrEqual(2);
    expect(log.lines.filter((l) => l.text.includes('Task failed with exception'))).toHaveLength(1);
  });

  it('does not follow a header token that only echoes the request (itsdangerous payload {"download_logs": true})', async () => {
    let calls = 0;
    // URLSafeSerializer(secret).dumps({"download_logs": True}): base64url(json) + "." + signature
    const echo = `${Buffer.from('{"download_logs":true}').toString('base64url')}.c2lnbmF0dXJl`;
    const base = await serve((req, res) => {
      if (req.url === '/api/v2/version') return json(res, 200, { version: '3.1.0' });
      if (!req.url?.startsWith(LOG_PATH)) return json(res, 404, { detail: 'not found' });
      calls++;
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'airflow-continuation-token': echo });
      res.end(nd(...HEADER, msg('10:01', 'error', 'Task failed with exception')));
    });
    const { log } = await readLog(base);
    expect(calls).toBe(1);
    expect(log.truncated).toBe(false);
  });

  it('follows continuation_token in a JSON body (Airflow 3 answering JSON) until it is null', async () => {
    const seen: Array<string | null> = [];
    const base = await serve((req, res) => {
      if (req.url === '/api/v2/version') return json(res, 200, { version: '3.0.2' });
      if (!req.url?.startsWith(LOG_PATH)) return json(res, 404, { detail: 'not found' });
      if (String(req.headers.accept).includes('ndjson')) return json(res, 406, { detail: 'Not Acceptable' });
      const token = tokenOf(req.url);
      seen.push(token);
      if (!token)
        return json(res, 200, {
          content: [...HEADER, msg('10:01', 'info', 'Fetching deals')],
          continuation_token: 'j2',
        });
      json(res, 200, {
        content: [
          msg('10:05', 'error', 'Task failed with exception', {
            error_detail: [
              {
                exc_type: 'AirflowRuntimeError',
                exc_value: "VARIABLE_NOT_FOUND: {'key': 'crm_cutoff'}",
                frames: [{ filename: '/opt/airflow/dags/crm.py', lineno: 12, name: 'export' }],
              },
            ],
          }),
        ],
        continuation_token: null,
      });
    });
    const { text } = await readLog(base);
    expect(seen).toEqual([null, 'j2']);
    expect(text).toContain("AirflowRuntimeError: VARIABLE_NOT_FOUND: {'key': 'crm_cutoff'}");
  });

  it('keeps HEAL_LOG_MAX_BYTES as the budget across pages and says the rest was not read', async () => {
    let calls = 0;
    const filler = 'x'.repeat(400);
    const base = await serve((req, res) => {
      if (req.url === '/api/v2/version') return json(res, 200, { version: '3.1.0' });
      if (!req.url?.startsWith(LOG_PATH)) return json(res, 404, { detail: 'not found' });
      calls++;
      res.writeHead(200, {
        'content-type': 'application/x-ndjson',
        'airflow-continuation-token': `n${calls}`,
      });
      res.end(nd(msg(`1${calls}:00`, 'error', `page ${calls} ${filler}`)));
    });
    const { log, notes } = await readLog(base, { HEAL_LOG_MAX_BYTES: '1200' });
    expect(calls).toBeLessThanOrEqual(3);
    expect(log.bytesRead).toBeLessThanOrEqual(1200);
    expect(log.truncated).toBe(true);
    expect(notes.join(' ')).toMatch(/longer than 1200 bytes/);
  });
});
