import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdapterContext } from '../../../src/adapters/types.ts';
import { investigateInProcess } from '../../../src/cli/investigate.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';
import type { Report } from '../../../src/core/report.ts';
import { startFixtureServer } from '../../support/fixtureServer.ts';

/**
 * Partial reads of a History Server that answers the application but not everything under it (it is still
 * replaying a big event log, or a proxy times out): the recorded healthy scenario with some endpoints broken.
 * A run whose jobs, stages or (where they decide) executors could not be read is undecided, never healthy.
 */
const HEALTHY = join(import.meta.dirname, '..', '..', 'scenarios', 'spark-healthy-nightly');
const APP = 'app-20261120013000-0041';
const PREFIX = `/api/v1/applications/${APP}`;

type Route = { path: string; query?: Record<string, string>; file: string; status?: number };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A copy of the healthy scenario with some routes answering 503 and the app document edited. */
function variant(broken: string[], editApp?: (app: { attempts: Array<Record<string, unknown>> }) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'heal-spark-partial-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(HEALTHY, dir, { recursive: true });
  const scenario = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8'));
  writeFileSync(
    join(dir, 'http', 'busy.json'),
    '{"message":"History Server is busy replaying the event log"}',
  );
  scenario.routes = (scenario.routes as Route[]).map((r) =>
    broken.includes(r.path.slice(PREFIX.length)) ? { ...r, file: 'http/busy.json', status: 503 } : r,
  );
  writeFileSync(join(dir, 'scenario.json'), JSON.stringify(scenario));
  if (editApp) {
    const app = JSON.parse(readFileSync(join(dir, 'http', 'app.json'), 'utf8'));
    editApp(app);
    writeFileSync(join(dir, 'http', 'app.json'), JSON.stringify(app));
  }
  return dir;
}

/** In front of a fixture server: requests for `hang` paths never get an answer, the rest are forwarded. */
async function hanging(base: string, hang: string[]): Promise<string> {
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    if (hang.includes(url.pathname.slice(PREFIX.length))) return;
    const upstream = await fetch(`${base}${req.url}`);
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  cleanups.push(
    () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function investigate(dir: string, opts: { hang?: string[] } = {}): Promise<Report> {
  const srv = await startFixtureServer(dir);
  cleanups.push(() => srv.close());
  const base = opts.hang ? await hanging(srv.base, opts.hang) : srv.base;
  const ctx: AdapterContext = {
    config: loadConfig({ SPARK_HISTORY_URL: base, ...(opts.hang ? { HEAL_HTTP_TIMEOUT_MS: '1500' } : {}) }),
    log: createLogger('silent'),
  };
  const out = await investigateInProcess({ platform: 'spark', appId: APP }, ctx);
  if (!out.ok) throw new Error(out.message);
  return out.report;
}

function expectUndecided(report: Report, gap: RegExp): void {
  expect(report.rootCause).toBeNull();
  expect(report.remediation.summary).not.toMatch(/completed successfully|Nothing to fix/);
  expect(report.remediation.summary).toMatch(/cannot call this run healthy/);
  expect(report.remediation.summary).toMatch(gap);
}

describe('Spark partial reads: a run Heal could not fully read is undecided, not healthy', () => {
  it('the untouched healthy scenario is still healthy', async () => {
    const report = await investigate(variant([]));
    expect(report.rootCause).toBeNull();
    expect(report.remediation.summary).toMatch(/completed successfully/);
  });

  it('/jobs and /stages answering 503 while the app answers', async () => {
    const report = await investigate(variant(['/jobs', '/stages']));
    expectUndecided(report, /jobs.*stages/);
    expect(report.gaps.join('\n')).toMatch(/\/jobs/);
  });

  it('/jobs and /stages timing out', async () => {
    const report = await investigate(variant([]), { hang: ['/jobs', '/stages'] });
    expectUndecided(report, /jobs.*stages/);
  });

  it('only /stages failing', async () => {
    expectUndecided(await investigate(variant(['/stages'])), /stages/);
  });

  it('an attempt that has not completed (still running or replay incomplete)', async () => {
    const report = await investigate(
      variant([], (app) => {
        for (const a of app.attempts) a.completed = false;
      }),
    );
    expectUndecided(report, /not completed/);
  });

  it('executors unreadable and no exit code: the driver log that would show a driver failure was not read', async () => {
    const report = await investigate(variant(['/allexecutors', '/executors']));
    expectUndecided(report, /executors/);
  });

  it('executors unreadable but the attempt reports exit code 0: the exit code decides', async () => {
    const report = await investigate(
      variant(['/allexecutors', '/executors'], (app) => {
        for (const a of app.attempts) a.exitCode = 0;
      }),
    );
    expect(report.remediation.summary).toMatch(/completed successfully/);
  });
});
