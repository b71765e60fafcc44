import { lookup as dnsLookup } from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectAirflow } from '../../src/adapters/airflow/client.ts';
import { cloudClient, getRun } from '../../src/adapters/dbt/cloud.ts';
import { openUrl, readText } from '../../src/adapters/http.ts';
import type { AdapterContext } from '../../src/adapters/types.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/logger.ts';

// Names under .heal-test resolve here (a platform on loopback, and a name rebound to the metadata address);
// every other name goes to the system resolver. IP literals never reach a lookup.
const FAKE_DNS: Record<string, string> = {
  'platform.heal-test': '127.0.0.1',
  'rebound.heal-test': '169.254.169.254',
};
const lookups: string[] = [];
vi.mock('../../src/adapters/egress.ts', async (importOriginal) => {
  const egress = await importOriginal<typeof import('../../src/adapters/egress.ts')>();
  const guardedLookup = egress.lookupGuard((host, opts, cb) => {
    lookups.push(host);
    const address = FAKE_DNS[host];
    if (address) cb(null, [{ address, family: 4 }]);
    else dnsLookup(host, opts, cb);
  });
  return { ...egress, guardedLookup };
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(host: string, handler: Handler): Promise<{ base: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, host, ok));
  return { base: `http://${host}:${(server.address() as AddressInfo).port}`, server };
}

const SECRET_BODY =
  '<html><body><h2>HTTP ERROR 500</h2><pre>org.postgresql.util.PSQLException: connection to ' +
  'db-internal.corp.example:5432 refused; spark.hadoop.fs.s3a.secret.key=AKIAZZZSECRET123 ' +
  'at ip-10-0-3-7.ec2.internal</pre></body></html>';

const ctxFor = (env: Record<string, string>): AdapterContext => ({
  config: loadConfig({ HEAL_HTTP_TIMEOUT_MS: '2000', ...env }),
  log: createLogger('silent'),
});

describe('openUrl: redirects stay inside the egress policy', () => {
  let canary: { base: string; server: Server };
  let platform: { base: string; server: Server };
  let other: { base: string; server: Server };
  let canaryHits = 0;
  let ctx: AdapterContext;

  beforeAll(async () => {
    // A canary on another loopback address: any request reaching it is a request Heal should not have made.
    canary = await listen('127.0.0.2', (_req, res) => {
      canaryHits++;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ERROR canary: instance credentials AKIAZZZCANARY');
    });
    other = await listen('127.0.0.1', (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ authorization: req.headers.authorization ?? null, method: req.method }));
    });
    const routes: Record<string, Handler> = {
      '/to-canary': (_q, res) => {
        res.writeHead(302, { location: `${canary.base}/latest/meta-data/` });
        res.end();
      },
      '/to-metadata': (_q, res) => {
        res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' });
        res.end();
      },
      '/to-self': (_q, res) => {
        res.writeHead(307, { location: '/ok' });
        res.end();
      },
      '/to-other': (_q, res) => {
        res.writeHead(302, { location: `${other.base}/echo` });
        res.end();
      },
      '/see-other': (_q, res) => {
        res.writeHead(303, { location: `${other.base}/echo` });
        res.end();
      },
      '/loop': (_q, res) => {
        res.writeHead(302, { location: '/loop' });
        res.end();
      },
      '/gz': (q, res) => {
        const gzip = /gzip/.test(String(q.headers['accept-encoding']));
        res.writeHead(200, { 'content-type': 'text/plain', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
        res.end(gzip ? gzipSync('ERROR compressed log line\n') : 'ERROR plain log line\n');
      },
      '/ok': (_q, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('fine');
      },
      '/boom': (_q, res) => {
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end(SECRET_BODY);
      },
      '/missing': (_q, res) => {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('no such container on db-internal.corp.example');
      },
    };
    platform = await listen('127.0.0.1', (req, res) => {
      const h = routes[new URL(req.url ?? '/', 'http://x').pathname];
      if (h) h(req, res);
      else {
        res.writeHead(404);
        res.end();
      }
    });
    ctx = ctxFor({ SPARK_HISTORY_URL: platform.base, HEAL_FETCH_ALLOW_HOSTS: new URL(other.base).host });
  });
  afterAll(() => {
    for (const s of [canary, platform, other]) {
      s.server.closeAllConnections();
      s.server.close();
    }
  });

  const open = (path: string, opts = {}) =>
    openUrl(`${platform.base}${path}`, `Test: GET ${path}`, ctx, '*/*', opts);

  it('refuses a redirect off the allow-list without requesting it, and says where it pointed', async () => {
    const r = await open('/to-canary');
    expect(r.ok).toBe(false);
    if (!r.ok && r.result.status === 'error') {
      expect(r.result.retryable).toBe(false);
      expect(r.result.message).toContain('Test: GET /to-canary not fetched');
      expect(r.result.message).toContain(`${canary.base}/latest/meta-data/`);
      expect(r.result.message).toMatch(/not in the allow-list|not allowed/);
    }
    expect(canaryHits).toBe(0);
  });

  it('refuses a configured platform that redirects to the metadata address', async () => {
    const r = await open('/to-metadata');
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.result.status === 'ok' ? '' : r.result.message).toMatch(/169\.254\.169\.254.*link-local/);
  });

  it('follows redirects inside the policy', async () => {
    const r = await open('/to-self');
    expect(r.ok).toBe(true);
    if (r.ok) expect((await readText(r.res, 1000)).text).toBe('fine');
  });

  it('drops credentials on a cross-origin redirect, and a 303 turns a POST into a GET', async () => {
    const r = await open('/to-other', { headers: { authorization: 'Bearer s3cr3t' } });
    expect(r.ok).toBe(true);
    if (r.ok)
      expect(JSON.parse((await readText(r.res, 1000)).text)).toEqual({ authorization: null, method: 'GET' });
    const p = await open('/see-other', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(p.ok).toBe(true);
    if (p.ok) expect(JSON.parse((await readText(p.res, 1000)).text)).toMatchObject({ method: 'GET' });
  });

  it('asks for and decodes compressed bodies, as fetch did', async () => {
    const r = await open('/gz');
    expect(r.ok).toBe(true);
    if (r.ok) expect((await readText(r.res, 1000)).text).toBe('ERROR compressed log line\n');
  });

  it('gives up after a few hops', async () => {
    const r = await open('/loop');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.result.status === 'ok' ? '' : r.result.message).toMatch(/redirects/);
  });

  it('an upstream error body never reaches the message: only what failed and the status line', async () => {
    const r = await open('/boom');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.result).toMatchObject({ status: 'error', retryable: true, httpStatus: 500 });
      expect(r.result.status === 'ok' ? '' : r.result.message).toBe(
        'Test: GET /boom failed: HTTP 500 Internal Server Error',
      );
    }
    const m = await open('/missing');
    expect(m.ok).toBe(false);
    if (!m.ok) {
      expect(m.result).toMatchObject({ status: 'no_data', httpStatus: 404 });
      expect(m.result.status === 'ok' ? '' : m.result.message).toBe(
        'Test: GET /missing failed: HTTP 404 Not Found',
      );
    }
  });
});

describe('configured platforms: redirects and error bodies', () => {
  let canaryHits = 0;
  const servers: Server[] = [];
  let canaryBase = '';
  beforeAll(async () => {
    const c = await listen('127.0.0.2', (_req, res) => {
      canaryHits++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"version":"3.0.2"}');
    });
    servers.push(c.server);
    canaryBase = c.base;
  });
  afterAll(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  it('Airflow answering 302 to the metadata address or to an unlisted host is refused, never followed', async () => {
    for (const location of ['http://169.254.169.254/latest/meta-data/', `${canaryBase}/api/v2/version`]) {
      const airflow = await listen('127.0.0.1', (_req, res) => {
        res.writeHead(302, { location });
        res.end();
      });
      servers.push(airflow.server);
      const r = await connectAirflow(ctxFor({ AIRFLOW_BASE_URL: airflow.base }));
      expect(r.status).toBe('error');
      if (r.status === 'error') {
        expect(r.message).toContain('not fetched');
        expect(r.message).toContain(new URL(location).host);
      }
    }
    expect(canaryHits).toBe(0);
  });

  it('an Airflow 500 with internal hostnames and secrets in its body yields only the status line', async () => {
    const airflow = await listen('127.0.0.1', (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end(SECRET_BODY);
    });
    servers.push(airflow.server);
    const r = await connectAirflow(ctxFor({ AIRFLOW_BASE_URL: airflow.base }));
    expect(r.status).toBe('error');
    if (r.status === 'error') {
      expect(r.message).toContain('HTTP 500 Internal Server Error');
      for (const leak of ['db-internal', 'AKIAZZZ', 'ip-10-0-3-7', 'PSQLException', 'REDACTED'])
        expect(r.message).not.toContain(leak);
    }
  });

  it('a dbt Cloud 500 with a secret in its body yields only the status line', async () => {
    const dbt = await listen('127.0.0.1', (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: { user_message: `internal error at db-internal.corp.example ${SECRET_BODY}` },
        }),
      );
    });
    servers.push(dbt.server);
    const c = cloudClient(
      ctxFor({ DBT_CLOUD_URL: dbt.base, DBT_CLOUD_ACCOUNT_ID: '1', DBT_CLOUD_TOKEN: 't' }),
    );
    if (c.status !== 'ok') throw new Error('client');
    const r = await getRun(c.data, '42');
    expect(r.status).toBe('error');
    if (r.status === 'error') {
      expect(r.message).toMatch(/dbt Cloud run 42 failed: HTTP 500 Internal Server Error$/);
      expect(r.message).not.toContain('db-internal');
    }
  });
});

describe('openUrl: host names are checked on the address connected to', () => {
  let platform: { base: string; server: Server };
  let port = 0;
  let ctx: AdapterContext;
  beforeAll(async () => {
    platform = await listen('127.0.0.1', (req, res) => {
      if (req.url === '/to-rebound') {
        res.writeHead(302, { location: `http://rebound.heal-test:${port}/latest/meta-data/` });
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`hello from ${req.headers.host}`);
      }
    });
    port = (platform.server.address() as AddressInfo).port;
    ctx = ctxFor({
      SPARK_HISTORY_URL: `http://platform.heal-test:${port}`,
      HEAL_FETCH_ALLOW_HOSTS: `rebound.heal-test:${port}`,
    });
  });
  afterAll(() => {
    platform.server.closeAllConnections();
    platform.server.close();
  });

  it('connects to a name through the guarded lookup', async () => {
    const r = await openUrl(`http://platform.heal-test:${port}/ok`, 'Test: GET /ok', ctx, '*/*');
    expect(r.ok).toBe(true);
    if (r.ok) expect((await readText(r.res, 1000)).text).toBe(`hello from platform.heal-test:${port}`);
    expect(lookups).toContain('platform.heal-test');
  });

  it('refuses an allow-listed name that resolves to the metadata address, as a refusal, not a network error', async () => {
    for (const [url, where] of [
      [
        `http://rebound.heal-test:${port}/latest/meta-data/`,
        `(http://rebound.heal-test:${port}/latest/meta-data/)`,
      ],
      [`http://platform.heal-test:${port}/to-rebound`, `/to-rebound, redirected to http://rebound.heal-test`],
    ] as const) {
      const r = await openUrl(url, 'Test: GET', ctx, '*/*');
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.refusal).toBe('forbidden');
        expect(r.result).toMatchObject({ status: 'error', retryable: false });
        const message = r.result.status === 'error' ? r.result.message : '';
        expect(message).toContain('Test: GET not fetched');
        expect(message).toContain(where);
        expect(message).toMatch(
          /rebound\.heal-test resolves to 169\.254\.169\.254 \(link-local address, cloud metadata\)/,
        );
        expect(message).not.toMatch(/fetch failed|HEAL_EGRESS_REFUSED/);
      }
    }
    expect(lookups.filter((h) => h === 'rebound.heal-test')).toHaveLength(2);
  });
});
