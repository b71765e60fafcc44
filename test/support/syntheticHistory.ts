/**
 * A synthetic Spark History Server: the recorded skew scenario (test/scenarios/spark-skew-hot-customer-oom)
 * scaled to `stages` stages and `tasks` tasks in all, 60% of them in the failing stage 3. Stage lists, stage
 * attempts (all their tasks unless `details=false`), task lists and FAILED filters are generated from the
 * recorded payloads and streamed as they are written; everything else is the recorded scenario. Used by the
 * collect tests and, in its own process, by the big-evidence benchmark (bench/synthetic-history.ts).
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startFixtureServer } from '../../src/cli/fixture-server.ts';

const DIR = join(import.meta.dirname, '..', 'scenarios', 'spark-skew-hot-customer-oom');
const APP = 'app-20261120021500-0042';
const HOT_STAGE = 3;

type Json = Record<string, unknown>;
const load = (f: string) => JSON.parse(readFileSync(join(DIR, 'http', f), 'utf8'));
const stageList: Json[] = load('stages.json');
const hotDetail: Json = load('stages/3.0.json');
const hotFailed: Json = load('stages/3.0-failed-tasks.json');
const hotList: Json[] = load('stages/3.0-taskList.json');
const okTemplate = Object.values(hotDetail.tasks as Record<string, Json>).find(
  (t) => t.status === 'SUCCESS',
) as Json;
const failedTasks = Object.values(hotFailed.tasks as Record<string, Json>);

/** Tasks per stage: the hot stage holds 60%, the rest share the remainder. */
function tasksOf(stageId: number, STAGES: number, TASKS: number): number {
  const hot = Math.round(TASKS * 0.6);
  if (stageId === HOT_STAGE) return hot;
  const rest = TASKS - hot;
  const per = Math.floor(rest / (STAGES - 1));
  return stageId === STAGES - 1 ? rest - per * (STAGES - 2) : per;
}

type Size = { STAGES: number; TASKS: number };

function stage(stageId: number, size: Size): Json {
  const tpl =
    (stageId === HOT_STAGE
      ? stageList.find((s) => s.stageId === HOT_STAGE)
      : stageList.find((s) => s.status === 'COMPLETE')) ?? {};
  const n = tasksOf(stageId, size.STAGES, size.TASKS);
  const failed = stageId === HOT_STAGE ? failedTasks.length : 0;
  return {
    ...tpl,
    stageId,
    attemptId: 0,
    numTasks: n,
    numCompleteTasks: n - (failed ? 1 : 0),
    numCompletedIndices: n - (failed ? 1 : 0),
    numFailedTasks: failed,
    name: `${String(tpl.name ?? 'stage')} #${stageId}`,
  };
}

let nextTid = 1_000_000;
/** A successful task like the recorded ones, with its own ids and a plausible spread of durations. */
function okTask(index: number): Json {
  const taskId = nextTid++;
  const duration = 3000 + ((index * 7919) % 2000);
  return {
    ...okTemplate,
    taskId,
    index,
    partitionId: index,
    attempt: 0,
    duration,
    executorId: String(1 + (index % 8)),
  };
}

function writeTasks(res: ServerResponse, stageId: number, count: number, asList: boolean): void {
  const failed = stageId === HOT_STAGE ? failedTasks : [];
  let first = true;
  const emit = (t: Json) => {
    const body = JSON.stringify(t);
    res.write(`${first ? '' : ','}${asList ? body : `${JSON.stringify(String(t.taskId))}:${body}`}`);
    first = false;
  };
  for (const t of failed) emit(t);
  for (let i = 0; i < count - failed.length; i++) emit(okTask(i));
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function stageAttempt(res: ServerResponse, stageId: number, q: URLSearchParams, size: Size): void {
  const s = stage(stageId, size);
  const detail = stageId === HOT_STAGE ? { ...hotDetail, ...s } : s;
  if (q.get('details') === 'false') {
    json(res, { ...detail, tasks: undefined });
    return;
  }
  if (q.get('taskStatus')?.toUpperCase() === 'FAILED') {
    json(res, { ...detail, tasks: Object.fromEntries(failedTasks.map((t) => [String(t.taskId), t])) });
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  const head = JSON.stringify({ ...detail, tasks: undefined });
  res.write(`${head.slice(0, -1)},"tasks":{`);
  writeTasks(res, stageId, Number(s.numTasks), false);
  res.end('}}');
}

function taskList(res: ServerResponse, stageId: number, q: URLSearchParams, size: Size): void {
  const length = Math.min(Number(q.get('length') ?? 20), Number(stage(stageId, size).numTasks));
  if (q.get('status')?.toLowerCase() === 'failed') {
    json(res, stageId === HOT_STAGE ? failedTasks.slice(0, length) : []);
    return;
  }
  if (stageId === HOT_STAGE && length <= hotList.length) {
    json(res, hotList.slice(0, length));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).write('[');
  writeTasks(res, stageId, length, true);
  res.end(']');
}

export interface SyntheticHistory {
  base: string;
  /** Every request path with its query, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startSyntheticHistory(size: {
  stages: number;
  tasks: number;
}): Promise<SyntheticHistory> {
  const size_ = { STAGES: size.stages, TASKS: size.tasks };
  const fixture = await startFixtureServer(DIR);
  const prefix = `/api/v1/applications/${APP}`;
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${url.pathname}${url.search}`);
    const rel = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : undefined;
    const m = rel?.match(/^\/stages\/(\d+)\/(\d+)(\/taskList)?$/);
    if (rel === '/stages') {
      const status = url.searchParams.get('status');
      const all = Array.from({ length: size_.STAGES }, (_, i) => stage(i, size_));
      return json(
        res,
        status ? all.filter((s) => String(s.status).toLowerCase() === status.toLowerCase()) : all,
      );
    }
    if (m)
      return m[3]
        ? taskList(res, Number(m[1]), url.searchParams, size_)
        : stageAttempt(res, Number(m[1]), url.searchParams, size_);
    // Everything else (app, jobs, executors, environment, logs) as recorded; generated stages' summaries
    // are those of recorded stage 0.
    const generated = Number(rel?.match(/^\/stages\/(\d+)\/0\/taskSummary$/)?.[1] ?? 0) > HOT_STAGE;
    const path = generated ? `${prefix}/stages/0/0/taskSummary` : url.pathname;
    const answer = await fetch(`${fixture.base}${path}${url.search}`);
    const body = (await answer.text()).replaceAll(fixture.base, base);
    res
      .writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' })
      .end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await fixture.close();
    },
  };
}
