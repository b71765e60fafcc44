import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseAttempt } from '../../../src/adapters/spark/client.ts';
import {
  collectSnapshot,
  propertiesRecord,
  selectStages,
  trimTasks,
} from '../../../src/adapters/spark/collect.ts';
import { pinSpark, sparkAdapter } from '../../../src/adapters/spark/index.ts';
import { LOG_PATTERNS } from '../../../src/adapters/spark/patterns.ts';
import type { StageAttempt } from '../../../src/adapters/spark/schema.ts';
import type { AdapterContext, PinResult } from '../../../src/adapters/types.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';
import { type FixtureServer, startFixtureServer } from '../../support/fixtureServer.ts';
import { startSyntheticHistory } from '../../support/syntheticHistory.ts';

const SCENARIOS = join(import.meta.dirname, '..', '..', 'scenarios');
const ctxFor = (base?: string): AdapterContext => ({
  config: loadConfig(base ? { SPARK_HISTORY_URL: base } : {}),
  log: createLogger('silent'),
});
const sparkTarget = (appId: string, attempt?: string) => ({
  platform: 'spark' as const,
  appId,
  ...(attempt ? { attempt } : {}),
});
const readJson = (scenario: string, file: string) =>
  JSON.parse(readFileSync(join(SCENARIOS, scenario, 'http', file), 'utf8')) as Array<Record<string, unknown>>;

let servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function fixture(name: string): Promise<FixtureServer> {
  const srv = await startFixtureServer(join(SCENARIOS, name));
  servers.push(srv);
  return srv;
}

async function pinned(base: string, appId: string, attempt?: string): Promise<PinResult> {
  const r = await pinSpark(sparkTarget(appId, attempt), ctxFor(base));
  if (r.status !== 'ok') throw new Error(`pin failed: ${r.message}`);
  return r.data;
}

describe('collectSnapshot on recorded scenarios', () => {
  it('YARN cluster app: pins attempt 1 and collects only under the attempt prefix', async () => {
    const name = 'spark-yarn-overhead-pandas-udf';
    const srv = await fixture(name);
    const appId = 'application_1763500000000_0107';
    const pin = await pinned(srv.base, appId);
    expect(pin.pinned).toEqual({ ref: `${appId}/1`, codeRef: null, dataRef: null, deterministic: false });
    expect(pin.target).toMatchObject({ appId, attempt: '1' });

    const { snapshot, gaps } = await collectSnapshot(pin, ctxFor(srv.base));
    expect(gaps).toEqual([]);
    expect(srv.requests.filter((r) => r.status !== 200)).toEqual([]);
    const api = srv.requests.filter((r) => r.path.startsWith('/api/v1/applications/'));
    for (const r of api.filter((r) => r.path !== `/api/v1/applications/${appId}`))
      expect(r.path.startsWith(`/api/v1/applications/${appId}/1/`)).toBe(true);
    expect(snapshot.apiPrefix).toBe(`/api/v1/applications/${appId}/1`);
    expect(snapshot.attempt?.attemptId).toBe('1');

    const failedStage = snapshot.stages.find((s) => s.status === 'FAILED');
    expect(failedStage?.failureReason).toContain('memoryOverhead');
    const key = `${failedStage?.stageId}.${failedStage?.attemptId}`;
    expect(snapshot.failedTasks[key]?.length).toBe(failedStage?.numFailedTasks);
    expect(snapshot.failedTasks[key]?.every((t) => t.status === 'FAILED')).toBe(true);
    for (const [k, summary] of Object.entries(snapshot.taskSummaries)) {
      expect(summary.duration?.length, k).toBe(summary.quantiles.length);
    }
    const top = snapshot.topTasks[key] ?? [];
    expect(top.length).toBeGreaterThan(0);
    expect(top.map((t) => t.duration ?? 0)).toEqual(
      [...top.map((t) => t.duration ?? 0)].sort((a, b) => b - a),
    );

    const dead = readJson(name, 'allexecutors.json')
      .filter((e) => e.removeReason)
      .map((e) => e.id);
    const logged = new Set(snapshot.logs.map((l) => l.executorId));
    expect(logged.has('driver')).toBe(true);
    for (const id of dead) expect(logged.has(String(id))).toBe(true);
    expect(snapshot.logs.find((l) => l.executorId === 'driver')?.stream).toBe('stderr');
    for (const log of snapshot.logs)
      for (const line of log.lines)
        if (LOG_PATTERNS.some((re) => re.test(line.text))) expect(line.n).toBeGreaterThan(0);
    expect(snapshot.logs.some((l) => l.lines.some((x) => /physical memory/.test(x.text)))).toBe(true);
    expect(Object.keys(snapshot.sparkProperties)).toContain('spark.executor.memory');
  });

  it('standalone app: no attempt segment, logPage log links with their query', async () => {
    const srv = await fixture('spark-skew-hot-customer-oom');
    const appId = 'app-20261120021500-0042';
    const pin = await pinned(srv.base, appId);
    expect(pin.pinned.ref).toBe(appId);
    expect(pin.target).not.toHaveProperty('attempt');
    const { snapshot, gaps } = await collectSnapshot(pin, ctxFor(srv.base));
    expect(gaps).toEqual([]);
    expect(snapshot.apiPrefix).toBe(`/api/v1/applications/${appId}`);
    expect(srv.requests.some((r) => r.path === `/api/v1/applications/${appId}/stages`)).toBe(true);
    const logReqs = srv.requests.filter((r) => r.path === '/logs/logPage/');
    expect(logReqs.length).toBe(snapshot.logs.length);
    expect(logReqs.every((r) => r.status === 200 && r.query.includes(`appId=${appId}`))).toBe(true);
    const dead = snapshot.executors.filter((e) => e.removeReason).map((e) => e.id);
    expect(dead.length).toBeGreaterThan(0);
    for (const id of dead)
      expect(snapshot.logs.some((l) => l.executorId === id && l.stream === 'stderr')).toBe(true);
    expect(Object.keys(snapshot.failedTasks).length).toBeGreaterThan(0);
  });

  it('Kubernetes app: driver logs are collected from its log service', async () => {
    const srv = await fixture('spark-heap-oom-even-partitions');
    const pin = await pinned(srv.base, 'spark-3f9e2a7c41b84d0e9a1f6c2b8d7e5a10');
    const { snapshot, gaps } = await collectSnapshot(pin, ctxFor(srv.base));
    expect(gaps).toEqual([]);
    const driver = snapshot.logs.find((l) => l.executorId === 'driver' && l.stream === 'stderr');
    expect(driver?.url).toContain('/logs/k8s/');
    expect(driver?.lines.length).toBeGreaterThan(0);
    expect(snapshot.logs.length).toBeLessThanOrEqual(16);
  });

  it('adapter.collect returns a Collection with the snapshot as facts', async () => {
    const srv = await fixture('spark-analysis-unresolved-column');
    const ctx = ctxFor(srv.base);
    const pin = await pinned(srv.base, 'application_1763500000000_0126');
    const c = await sparkAdapter.collect(pin, ctx);
    expect(c.facts.appId).toBe('application_1763500000000_0126');
    expect(c.gaps).toEqual([]);
    expect(c.facts.logs.some((l) => l.executorId === 'driver')).toBe(true);
  });
});

describe('pin', () => {
  it('says plainly when the application is not on the History Server', async () => {
    const srv = await fixture('spark-healthy-nightly');
    const r = await pinSpark(sparkTarget('app-20990101000000-0001'), ctxFor(srv.base));
    expect(r.status).toBe('no_data');
    if (r.status === 'no_data')
      expect(r.message).toContain(
        `Spark application app-20990101000000-0001 not found on the History Server at ${srv.base}`,
      );
  });

  it('rejects an attempt the app does not have, listing the ones it has', async () => {
    const srv = await fixture('spark-analysis-unresolved-column');
    const r = await pinSpark(sparkTarget('application_1763500000000_0126', '7'), ctxFor(srv.base));
    expect(r.status).toBe('no_data');
    if (r.status === 'no_data') expect(r.message).toMatch(/no attempt 7 .*attempts: 1/);
  });

  it('needs SPARK_HISTORY_URL', async () => {
    const r = await pinSpark(sparkTarget('app-1'), ctxFor());
    expect(r).toMatchObject({ status: 'error', retryable: false });
    if (r.status === 'error') expect(r.message).toContain('SPARK_HISTORY_URL');
  });

  it('picks the latest attempt whatever the order (the History Server lists newest first)', () => {
    const attempts = [
      { attemptId: '2', startTime: '2015-03-17T23:11:50.242GMT' },
      { attemptId: '1', startTime: '2015-03-16T19:25:10.242GMT' },
    ];
    expect(chooseAttempt(attempts, undefined).found?.attemptId).toBe('2');
    expect(chooseAttempt([...attempts].reverse(), undefined).found?.attemptId).toBe('2');
    expect(chooseAttempt(attempts, '1').found?.attemptId).toBe('1');
  });
});

describe('degraded History Server', () => {
  it('an unreachable server yields a gap, not a throw', async () => {
    const srv = await startFixtureServer(join(SCENARIOS, 'spark-healthy-nightly'));
    await srv.close();
    const pin: PinResult = {
      pinned: { ref: 'app-20261120013000-0041', codeRef: null, dataRef: null, deterministic: false },
      target: sparkTarget('app-20261120013000-0041'),
    };
    const { snapshot, gaps } = await collectSnapshot(pin, ctxFor(srv.base));
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatch(/unreachable .*connection refused/);
    expect(snapshot.stages).toEqual([]);
    const c = await sparkAdapter.collect(pin, ctxFor(srv.base));
    expect(c.gaps).toEqual(gaps);
    const p = await pinSpark(pin.target, ctxFor(srv.base));
    expect(p).toMatchObject({ status: 'error', retryable: true });
  });

  it('falls back per endpoint and names each failed one in a gap', async () => {
    const srv = await miniHistoryServer();
    servers.push(srv);
    const pin = await pinned(srv.base, 'app-1');
    const { snapshot, gaps } = await collectSnapshot(pin, ctxFor(srv.base));
    // stage details without a tasks map: FAILED tasks come from ?taskStatus=FAILED
    expect(srv.seen).toContain('/api/v1/applications/app-1/stages/0/0?details=true&taskStatus=FAILED');
    expect(snapshot.failedTasks['0.0']?.map((t) => t.taskId)).toEqual([7]);
    // custom quantiles refused: the default summary is used and its own quantiles kept
    expect(snapshot.taskSummaries['0.0']?.quantiles).toEqual([0.05, 0.25, 0.5, 0.75, 0.95]);
    // allexecutors broken: /executors used, and the gap says what is missing
    expect(snapshot.executors.map((e) => e.id)).toEqual(['driver', '1']);
    expect(gaps.some((g) => g.includes('/allexecutors failed: HTTP 500') && g.includes('fell back'))).toBe(
      true,
    );
    expect(gaps.some((g) => g.includes('/environment') && g.includes('HTTP 503'))).toBe(true);
    expect(gaps.some((g) => g.includes('/taskList') && g.includes('malformed JSON'))).toBe(true);
    expect(gaps.some((g) => g.includes('executor 1 stderr log') && g.includes('HTTP 404'))).toBe(true);
    expect(snapshot.logs.map((l) => `${l.executorId}/${l.stream}`)).toEqual(['1/stdout']);
  });
});

describe('selectStages', () => {
  const st = (stageId: number, status: string, extra: Partial<StageAttempt> = {}): StageAttempt => ({
    stageId,
    attemptId: 0,
    status,
    name: '',
    ...extra,
  });

  it('takes failed stages first, then the slowest and biggest, capped', () => {
    const stages = [
      st(0, 'COMPLETE', { executorRunTime: 10 }),
      st(1, 'FAILED', { numFailedTasks: 4 }),
      st(2, 'SKIPPED', { executorRunTime: 10_000 }),
      st(3, 'COMPLETE', { executorRunTime: 5_000, numFailedTasks: 1 }),
      ...Array.from({ length: 30 }, (_, i) => st(10 + i, 'COMPLETE', { executorRunTime: 100 + i })),
    ];
    const picked = selectStages(stages).map((s) => s.stageId);
    expect(picked.slice(0, 2)).toEqual([1, 3]);
    expect(picked).not.toContain(2);
    expect(picked).toContain(39);
    expect(picked.length).toBeLessThanOrEqual(12);
  });
});

describe('bounding and redaction', () => {
  it('trimTasks keeps every failed task, then the longest, within the cap', () => {
    const tasks = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [String(i), task(i, i % 10 === 3 ? 'FAILED' : 'SUCCESS', '1')]),
    );
    const kept = Object.values(trimTasks(tasks, 12));
    expect(kept).toHaveLength(12);
    expect(kept.filter((t) => t.status === 'FAILED').map((t) => t.taskId)).toEqual([3, 13, 23, 33, 43]);
    expect(kept.some((t) => t.taskId === 49)).toBe(true);
    expect(trimTasks(tasks, 100)).toBe(tasks);
  });

  it('propertiesRecord turns pairs into a record and hides secret-looking values', () => {
    const props = propertiesRecord([
      ['spark.executor.memory', '8g'],
      ['spark.hadoop.fs.s3a.secret.key', 'wJalrXUtnFEMI/K7MDENG'],
      ['spark.jdbc.url', 'jdbc:postgresql://etl:hunter22@db:5432/x'],
    ]);
    expect(props['spark.executor.memory']).toBe('8g');
    expect(props['spark.hadoop.fs.s3a.secret.key']).toBe('[REDACTED]');
    expect(props['spark.jdbc.url']).not.toContain('hunter22');
  });
});

const task = (taskId: number, status: string, executorId: string) => ({
  taskId,
  index: taskId,
  attempt: 0,
  executorId,
  status,
  duration: 1000 + taskId,
});

/** A History Server where several endpoints misbehave in different ways. */
async function miniHistoryServer(): Promise<{ base: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const p = '/api/v1/applications/app-1';
  const stage = {
    stageId: 0,
    attemptId: 0,
    status: 'FAILED',
    numFailedTasks: 1,
    failureReason: 'Lost task 7.0 (executor 1)',
  };
  const execs = [
    { id: 'driver', executorLogs: {} as Record<string, string> },
    { id: '1', failedTasks: 1, executorLogs: {} as Record<string, string> },
  ];
  const routes: Record<string, (res: ServerResponse) => void> = {
    [p]: (res) => send(res, 200, { id: 'app-1', attempts: [{ startTime: '2026-01-01T00:00:00.000GMT' }] }),
    [`${p}/jobs`]: (res) => send(res, 200, []),
    [`${p}/stages`]: (res) => send(res, 200, [stage]),
    [`${p}/stages/0/0`]: (res) => send(res, 200, stage),
    [`${p}/stages/0/0?details=true&taskStatus=FAILED`]: (res) =>
      send(res, 200, { ...stage, tasks: { 7: task(7, 'FAILED', '1'), 8: task(8, 'SUCCESS', '1') } }),
    [`${p}/stages/0/0/taskSummary?quantiles=0.01,0.5,0.99`]: (res) => send(res, 400, 'bad quantiles'),
    [`${p}/stages/0/0/taskSummary`]: (res) =>
      send(res, 200, { quantiles: [0.05, 0.25, 0.5, 0.75, 0.95], duration: [1, 2, 3, 4, 5] }),
    [`${p}/stages/0/0/taskList?sortBy=-runtime&length=20`]: (res) => send(res, 200, '[{"taskId":'),
    [`${p}/allexecutors`]: (res) => send(res, 500, 'boom'),
    [`${p}/executors`]: (res) => send(res, 200, execs),
    [`${p}/environment`]: (res) => send(res, 503, 'Service Unavailable'),
    '/logs/1/stdout': (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('INFO start\nERROR Executor: Exception in task 7.0\n');
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = `${url.pathname}${decodeURIComponent(url.search)}`;
    seen.push(key);
    const h = routes[key] ?? routes[url.pathname];
    if (h) h(res);
    else send(res, 404, 'not found');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ex1 = execs[1];
  if (ex1)
    ex1.executorLogs = { stderr: `${base}/gone`, stdout: `${base}/logs/1/stdout`, gc: 'file:///tmp/gc.log' };
  return {
    base,
    seen,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

describe('collectSnapshot on a big application (synthetic History Server)', () => {
  it('reads a 6,000-task stage without its task map: failed and longest tasks come bounded from taskList', async () => {
    const srv = await startSyntheticHistory({ stages: 20, tasks: 10_000 });
    servers.push(srv);
    const appId = 'app-20261120021500-0042';
    const pin = await pinned(srv.base, appId);
    const { snapshot, gaps } = await collectSnapshot(pin, ctxFor(srv.base));
    expect(gaps).toEqual([]);
    const hot = srv.requests.filter((r) => r.includes('/stages/3/0'));
    expect(hot).toContain(`/api/v1/applications/${appId}/stages/3/0?details=false`);
    expect(hot.filter((r) => r.endsWith('/stages/3/0'))).toEqual([]); // never the whole task map
    expect(hot.some((r) => r.includes('taskList?status=failed'))).toBe(true);
    const tasks = Object.values(snapshot.stageDetails['3.0']?.tasks ?? {});
    expect(tasks.length).toBeGreaterThan(100);
    expect(tasks.length).toBeLessThanOrEqual(1000);
    expect(snapshot.failedTasks['3.0']).toHaveLength(4);
    // Small stages are still read whole.
    expect(srv.requests).toContain(`/api/v1/applications/${appId}/stages/0/0`);
  });
});
