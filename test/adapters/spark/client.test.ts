import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bodySnippet, HistoryClient, historyClient, mapLimit } from '../../../src/adapters/spark/client.ts';
import { Application } from '../../../src/adapters/spark/schema.ts';
import type { AdapterContext } from '../../../src/adapters/types.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ base: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

function ctxFor(env: Record<string, string>, signal?: AbortSignal): AdapterContext {
  return { config: loadConfig(env), log: createLogger('silent'), ...(signal ? { signal } : {}) };
}

const APP = { id: 'app-1', name: 'nightly', attempts: [{ attemptId: '1', completed: true }] };

const routes: Record<string, Handler> = {
  '/api/v1/applications/app-1': (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(APP));
  },
  '/api/v1/applications/missing': (_q, res) => {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('no such app: missing');
  },
  '/api/v1/applications/boom': (_q, res) => {
    res.writeHead(500, { 'content-type': 'text/html' });
    res.end(
      '<html><body><h2>HTTP ERROR 500</h2><pre>java.lang.NullPointerException token=abc123secret</pre></body></html>',
    );
  },
  '/api/v1/applications/forbidden': (_q, res) => {
    res.writeHead(403);
    res.end('user etl may not view this application');
  },
  '/api/v1/applications/garbage': (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id": "garbage", "attempts": [');
  },
  '/api/v1/applications/shape': (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 42, attempts: 'none' }));
  },
  '/api/v1/applications/slow': () => {
    // never answers: the client's timeout must fire
  },
};

describe('HistoryClient result mapping', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  let client: HistoryClient;

  beforeAll(async () => {
    srv = await serve((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const h = routes[path];
      if (h) h(req, res);
      else {
        res.writeHead(404);
        res.end();
      }
    });
    const c = historyClient(ctxFor({ SPARK_HISTORY_URL: `${srv.base}/`, HEAL_HTTP_TIMEOUT_MS: '300' }));
    if (c.status !== 'ok') throw new Error('client');
    client = c.data;
  });
  afterAll(() => srv.close());

  it('parses a good response with the zod schema (loose: extra fields kept)', async () => {
    const r = await client.get('/applications/app-1', Application);
    expect(r).toEqual({ status: 'ok', data: expect.objectContaining({ id: 'app-1', name: 'nightly' }) });
    if (r.status === 'ok') expect(r.data.attempts[0]?.attemptId).toBe('1');
  });

  // Error bodies stay out of messages (they become gaps in Slack): only what failed and the status line.
  it('maps 404 to no_data naming the endpoint and the status line', async () => {
    const r = await client.get('/applications/missing', Application);
    expect(r.status).toBe('no_data');
    if (r.status === 'no_data') {
      expect(r.httpStatus).toBe(404);
      expect(r.message).toBe(
        'Spark History Server: GET /api/v1/applications/missing failed: HTTP 404 Not Found',
      );
    }
  });

  it('maps 5xx to a retryable error without any of the body', async () => {
    const r = await client.get('/applications/boom', Application);
    expect(r).toMatchObject({ status: 'error', retryable: true, httpStatus: 500 });
    if (r.status === 'error') {
      expect(r.message).toBe(
        'Spark History Server: GET /api/v1/applications/boom failed: HTTP 500 Internal Server Error',
      );
      expect(r.message).not.toContain('NullPointerException');
      expect(r.message).not.toContain('abc123secret');
    }
  });

  it('maps other 4xx to a permanent error', async () => {
    const r = await client.get('/applications/forbidden', Application);
    expect(r).toMatchObject({ status: 'error', retryable: false, httpStatus: 403 });
    if (r.status === 'error') {
      expect(r.message).toMatch(/HTTP 403 Forbidden$/);
      expect(r.message).not.toContain('may not view');
    }
  });

  it('reports malformed JSON as a permanent error naming the endpoint', async () => {
    const r = await client.get('/applications/garbage', Application);
    expect(r).toMatchObject({ status: 'error', retryable: false });
    if (r.status === 'error') {
      expect(r.message).toContain('malformed JSON');
      expect(r.message).toContain('/api/v1/applications/garbage');
      expect(r.message).not.toContain('"garbage"');
    }
  });

  it('reports a schema mismatch naming the endpoint and the zod problem', async () => {
    const r = await client.get('/applications/shape', Application);
    expect(r).toMatchObject({ status: 'error', retryable: false });
    if (r.status === 'error') {
      expect(r.message).toContain('/api/v1/applications/shape');
      expect(r.message).toMatch(/unexpected shape: .*(id|attempts)/);
    }
  });

  it('turns a hung server into a retryable timeout error', async () => {
    const r = await client.get('/applications/slow', Application);
    expect(r).toMatchObject({ status: 'error', retryable: true });
    if (r.status === 'error') expect(r.message).toContain('timed out after 300 ms');
  });

  it('honours the caller abort signal', async () => {
    const ac = new AbortController();
    const c = new HistoryClient(srv.base, ctxFor({ SPARK_HISTORY_URL: srv.base }, ac.signal));
    const pending = c.get('/applications/slow', Application);
    ac.abort();
    const r = await pending;
    expect(r.status).toBe('error');
    if (r.status === 'error') expect(r.message).toContain('cancelled');
  });
});

describe('HistoryClient without a server', () => {
  it('maps connection refused to a retryable error', async () => {
    const dead = await serve(() => {});
    await dead.close();
    const c = historyClient(ctxFor({ SPARK_HISTORY_URL: dead.base }));
    if (c.status !== 'ok') throw new Error('client');
    const r = await c.data.get('/applications', z.array(Application));
    expect(r).toMatchObject({ status: 'error', retryable: true });
    if (r.status === 'error') {
      expect(r.message).toContain('connection refused');
      expect(r.httpStatus).toBeUndefined();
    }
  });

  it('says to set SPARK_HISTORY_URL when it is missing', () => {
    const c = historyClient(ctxFor({}));
    expect(c).toMatchObject({ status: 'error', retryable: false });
    if (c.status === 'error') expect(c.message).toContain('SPARK_HISTORY_URL');
  });
});

describe('helpers', () => {
  it('mapLimit keeps order and never exceeds the limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, (11 - n) % 4));
      inFlight--;
      return n * 2;
    });
    expect(out).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    expect(peak).toBe(3);
  });

  it('bodySnippet flattens, bounds and redacts', () => {
    const s = bodySnippet(`<p>password=hunter22</p>\n${'x'.repeat(1000)}`);
    expect(s).not.toContain('hunter22');
    expect(s.length).toBeLessThan(400);
  });
});
