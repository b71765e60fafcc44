import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { investigateInProcess } from '../../../src/cli/investigate.ts';
import { configForTarget } from '../../../src/cli/target-servers.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';
import type { Report } from '../../../src/core/report.ts';
import { parseTarget } from '../../../src/core/target.ts';
import { type FixtureServer, startFixtureServer } from '../../support/fixtureServer.ts';

/**
 * The recorded YARN scenario, with its executor log links rewritten the way a hostile (or broken) job can
 * rewrite them in its own event log: straight at a canary, at the History Server's own host which answers
 * a redirect to the canary, at another port of the History Server's host, and at the metadata address.
 */
const SCENARIO = join(import.meta.dirname, '..', '..', 'scenarios', 'spark-fetch-failed-lost-nodes');
const APP = 'application_1763500000000_0121';

interface Canary {
  base: string;
  hits: string[];
  server: Server;
}

async function canaryOn(host: string): Promise<Canary> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '/');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ERROR Executor: canary secret AKIAZZZCANARY0001\n');
  });
  await new Promise<void>((ok) => server.listen(0, host, ok));
  return { base: `http://${host}:${(server.address() as AddressInfo).port}`, hits, server };
}

type Kind = 'direct' | 'redirect' | 'internal-port' | 'metadata';

/** Where each executor's streams now point (before `{base}` expansion), and why. */
function rewrite(dir: string, canary: Canary, internal: Canary): Map<string, { url: string; kind: Kind }> {
  const planned = new Map<string, { url: string; kind: Kind }>();
  const routes: unknown[] = [];
  const stdoutKinds: Kind[] = ['direct', 'internal-port', 'metadata'];
  const rewriteFile = (file: string) => {
    const path = join(dir, 'http', file);
    const executors = JSON.parse(readFileSync(path, 'utf8')) as Array<{
      id: string;
      executorLogs: Record<string, string>;
    }>;
    for (const e of executors) {
      if (!Object.keys(e.executorLogs).length) continue;
      const logPath = `/node/containerlogs/container_${e.id}/etl`;
      const out = stdoutKinds[Number(e.id) % stdoutKinds.length] as Kind;
      const stdout =
        out === 'direct'
          ? `${canary.base}${logPath}/stdout`
          : out === 'internal-port'
            ? `${internal.base}${logPath}/stdout`
            : 'http://169.254.169.254/latest/meta-data/iam/security-credentials/';
      const redirectPath = `/redirect${logPath}/stderr`;
      e.executorLogs = { stdout: `${stdout}?start=-4096`, stderr: `{base}${redirectPath}?start=-4096` };
      planned.set(`${e.id}/stdout`, { url: stdout, kind: out });
      planned.set(`${e.id}/stderr`, { url: `{base}${redirectPath}`, kind: 'redirect' });
      routes.push({
        method: 'GET',
        path: redirectPath,
        file: 'http/app.json',
        status: 302,
        headers: { location: `${canary.base}${logPath}/stderr?start=0` },
      });
    }
    writeFileSync(path, JSON.stringify(executors));
  };
  rewriteFile('allexecutors.json');
  rewriteFile('executors.json');
  const scenarioPath = join(dir, 'scenario.json');
  const scenario = JSON.parse(readFileSync(scenarioPath, 'utf8')) as { routes: unknown[] };
  scenario.routes.push(...routes);
  writeFileSync(scenarioPath, JSON.stringify(scenario));
  return planned;
}

const ctxWith = (env: Record<string, string>) => ({
  config: loadConfig({ HEAL_HTTP_TIMEOUT_MS: '1500', ...env }),
  log: createLogger('silent'),
});

/** Every executor-log gap of the report, keyed `<executor>/<stream>`. */
function logGaps(report: Report): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of report.gaps) {
    const m = g.match(/^Spark executor (\S+) (stdout|stderr) log /);
    if (m) out.set(`${m[1]}/${m[2]}`, g);
  }
  return out;
}

describe('SSRF through Spark executor log links', () => {
  let dir = '';
  let canary: Canary;
  let internal: Canary;
  let fixture: FixtureServer;
  let planned: Map<string, { url: string; kind: Kind }>;

  beforeAll(async () => {
    canary = await canaryOn('127.0.0.2');
    internal = await canaryOn('127.0.0.1');
    dir = mkdtempSync(join(tmpdir(), 'heal-ssrf-'));
    cpSync(SCENARIO, dir, { recursive: true });
    planned = rewrite(dir, canary, internal);
    fixture = await startFixtureServer(dir);
  });
  afterAll(async () => {
    await fixture.close();
    for (const c of [canary, internal]) {
      c.server.closeAllConnections();
      c.server.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const check = (report: Report) => {
    expect(canary.hits).toEqual([]);
    expect(internal.hits).toEqual([]);
    const gaps = logGaps(report);
    const kinds = new Set<Kind>();
    expect(gaps.size).toBeGreaterThanOrEqual(4);
    for (const [key, gap] of gaps) {
      const plan = planned.get(key);
      expect(plan, key).toBeDefined();
      if (!plan) continue;
      kinds.add(plan.kind);
      expect(gap).toContain('not fetched');
      expect(gap).toContain(plan.url.replace('{base}', fixture.base));
      if (plan.kind === 'metadata') expect(gap).toMatch(/169\.254\.169\.254.*link-local/);
      if (plan.kind === 'redirect') expect(gap).toContain(canary.base);
      if (plan.kind !== 'metadata') expect(gap).toContain('HEAL_FETCH_ALLOW_HOSTS');
    }
    expect([...kinds].sort()).toEqual(['direct', 'internal-port', 'metadata', 'redirect']);
    expect(JSON.stringify(report)).not.toContain('AKIAZZZCANARY');
  };

  it('a bot investigation never requests them and names each refused URL as a gap', async () => {
    const parsed = parseTarget(`spark ${APP}`);
    if (!parsed.ok) throw new Error(parsed.error);
    const out = await investigateInProcess(parsed.target, ctxWith({ SPARK_HISTORY_URL: fixture.base }));
    expect(out.ok).toBe(true);
    if (out.ok) check(out.report);
    expect(fixture.requests.some((r) => r.path.startsWith('/redirect/'))).toBe(true);
  });

  it('heal investigate <url>: the typed URL host is the platform host, its executor links are still checked', async () => {
    const parsed = parseTarget(`${fixture.base}/history/${APP}/jobs/`);
    if (!parsed.ok) throw new Error(parsed.error);
    const ctx = ctxWith({});
    const out = await investigateInProcess(parsed.target, {
      ...ctx,
      config: configForTarget(ctx.config, parsed.target),
    });
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.report.pinned?.ref).toContain(APP);
    check(out.report);
  });
});
