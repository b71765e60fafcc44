import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../../src/core/report.ts';
import { exitCodeFor, runHeal } from '../support/runHeal.ts';
import { lastJsonObject } from '../support/score.ts';

/** A server that answers every request after `delayMs` with `body` (or never, when delayMs is Infinity). */
async function misbehaving(body: string, delayMs = 0): Promise<{ base: string; server: Server }> {
  const server = createServer((_req, res) => {
    if (delayMs === Number.POSITIVE_INFINITY) return;
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    }, delayMs);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function gapsFor(args: string[], env: Record<string, string>) {
  const run = await runHeal(['investigate', ...args, '--json'], env);
  const report = Report.parse(lastJsonObject(run.stdout));
  expect(report.rootCause).toBeNull();
  expect(run.code, run.stderr).toBe(exitCodeFor(report));
  expect([3, 4]).toContain(run.code);
  return report.gaps.join('\n');
}

const AIRFLOW = ['airflow', 'revenue_daily', 'scheduled__2026-11-20T02:00:00+00:00'];
const SPARK = ['spark', 'application_1763500000000_0042'];

describe('a platform that is down, slow or returns garbage is a named gap in a valid report', () => {
  const servers: Server[] = [];
  let slow = '';
  let garbage = '';
  beforeAll(async () => {
    const s = await misbehaving('{}', Number.POSITIVE_INFINITY);
    const g = await misbehaving('<html><body>502 Bad Gateway from the proxy</body></html>');
    servers.push(s.server, g.server);
    slow = s.base;
    garbage = g.base;
  });
  afterAll(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  it.each([
    ['Airflow', AIRFLOW, 'AIRFLOW_BASE_URL'],
    ['Spark', SPARK, 'SPARK_HISTORY_URL'],
  ])('%s down', async (_name, args, variable) => {
    expect(await gapsFor(args, { [variable]: 'http://127.0.0.1:45997' })).toMatch(/connection refused/);
  });

  it.each([
    ['Airflow', AIRFLOW, 'AIRFLOW_BASE_URL'],
    ['Spark', SPARK, 'SPARK_HISTORY_URL'],
  ])('%s slow (past HEAL_HTTP_TIMEOUT_MS)', async (_name, args, variable) => {
    const gaps = await gapsFor(args, { [variable]: slow, HEAL_HTTP_TIMEOUT_MS: '400' });
    expect(gaps).toMatch(/timed out after 400 ms/);
  });

  it.each([
    ['Airflow', AIRFLOW, 'AIRFLOW_BASE_URL'],
    ['Spark', SPARK, 'SPARK_HISTORY_URL'],
  ])('%s garbage', async (_name, args, variable) => {
    const gaps = await gapsFor(args, { [variable]: garbage });
    expect(gaps).toMatch(/JSON|not valid|unexpected|invalid/i);
    expect(gaps).not.toMatch(/\n\s+at /);
  });
});
