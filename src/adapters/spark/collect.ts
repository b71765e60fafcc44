import { z } from 'zod';
import { redact } from '../../core/redact.ts';
import type { Upstream } from '../../core/upstream.ts';
import { mapLimit } from '../http.ts';
import type { AdapterContext, PinResult } from '../types.ts';
import { API_ROOT, appPath, chooseAttempt, type HistoryClient, historyClient } from './client.ts';
import { streamLog } from './logs.ts';
import {
  Application,
  Environment,
  Executor,
  Job,
  type SparkSnapshot,
  StageAttempt,
  stageKey,
  Task,
  TaskSummary,
  Unread,
} from './schema.ts';
import { logTargets } from './targets.ts';

export { logTargets, mentionedExecutors } from './targets.ts';

/** Requests in flight at once against the History Server / log servers. */
const CONCURRENCY = 5;
/** Stage attempts whose details, summaries and task lists are fetched. */
const MAX_DETAILED_STAGES = 12;
/** Tasks kept per stage attempt's `tasks` map (failed first, then longest, then biggest shuffle read). */
const MAX_TASKS_KEPT = 1000;
/**
 * Above this many tasks a stage attempt is read without its task map (`details=false`, ~1.5 KB of JSON per
 * task: 60k tasks would be 90 MB) and its tasks come bounded from `taskList` (longest and failed ones).
 */
const MAX_INLINE_TASKS = 2000;
const QUANTILES = '0.01,0.5,0.99';
const TOP_TASKS = 20;

type Fetcher = <S extends z.ZodType>(rel: string, schema: S) => Promise<Upstream<z.output<S>>>;

/** GETs under the app prefix and turns failures into gap strings. */
function appFetcher(client: HistoryClient, prefix: string): Fetcher {
  return (rel, schema) => client.get(`${prefix}${rel}`, schema);
}

function emptySnapshot(appId: string, attemptId: string | undefined): SparkSnapshot {
  return {
    appId,
    ...(attemptId ? { attemptId } : {}),
    apiPrefix: `${API_ROOT}${appPath(appId, attemptId)}`,
    jobs: [],
    stages: [],
    stageDetails: {},
    failedTasks: {},
    taskSummaries: {},
    topTasks: {},
    executors: [],
    sparkProperties: {},
    logs: [],
  };
}

/**
 * Collects everything the Spark rules read for a pinned application attempt: the app, jobs, stages
 * (failed and slow/big ones in detail), failed tasks, task summaries, top tasks, executors,
 * environment and filtered executor/driver log excerpts. Every failed endpoint becomes a gap in plain
 * words; nothing upstream makes it throw.
 */
export async function collectSnapshot(
  pin: PinResult,
  ctx: AdapterContext,
): Promise<{ snapshot: SparkSnapshot; gaps: string[] }> {
  if (pin.target.platform !== 'spark') throw new Error(`collectSnapshot got a ${pin.target.platform} target`);
  const { appId, attempt } = pin.target;
  const snap = emptySnapshot(appId, attempt);
  const gaps: string[] = [];
  const client = historyClient(ctx);
  const nothing = (gap: string) => ({ snapshot: { ...snap, unread: [...Unread.options] }, gaps: [gap] });
  if (client.status !== 'ok') return nothing(client.message);
  const app = await client.data.get(appPath(appId), Application);
  if (app.status === 'error' && app.httpStatus === undefined)
    return nothing(`Spark History Server unreachable at ${client.data.base}: ${app.message}`);
  snap.unread = [];
  if (app.status === 'ok') {
    snap.app = app.data;
    const att = chooseAttempt(app.data.attempts, attempt);
    if (att.found) snap.attempt = att.found;
  } else {
    gaps.push(app.message);
    snap.unread.push('application');
  }
  const get = appFetcher(client.data, appPath(appId, attempt));
  await collectOverview(snap, get, gaps);
  const chosen = selectStages(snap.stages);
  await mapLimit(chosen, CONCURRENCY, (s) => collectStage(snap, get, s, gaps));
  await collectLogs(snap, ctx, gaps);
  return { snapshot: snap, gaps: [...new Set(gaps)] };
}

function keep<T>(r: Upstream<T>, gaps: string[]): T | undefined {
  if (r.status === 'ok') return r.data;
  gaps.push(r.message);
  return undefined;
}

async function collectOverview(snap: SparkSnapshot, get: Fetcher, gaps: string[]): Promise<void> {
  const [jobs, stages, failed, executors, env] = await Promise.all([
    get('/jobs', z.array(Job)),
    get('/stages', z.array(StageAttempt)),
    get('/stages?status=failed', z.array(StageAttempt)),
    collectExecutors(get, gaps),
    get('/environment', Environment),
  ]);
  snap.jobs = keep(jobs, gaps) ?? [];
  const byKey = new Map<string, StageAttempt>();
  for (const s of [...(keep(stages, gaps) ?? []), ...(keep(failed, gaps) ?? [])])
    if (!byKey.has(stageKey(s.stageId, s.attemptId))) byKey.set(stageKey(s.stageId, s.attemptId), s);
  snap.stages = [...byKey.values()];
  snap.executors = executors ?? [];
  const unread: Array<[Unread, boolean]> = [
    ['jobs', jobs.status !== 'ok'],
    ['stages', stages.status !== 'ok'],
    ['executors', executors === undefined],
  ];
  snap.unread = [...(snap.unread ?? []), ...unread.filter(([, missing]) => missing).map(([name]) => name)];
  const envData = keep(env, gaps);
  if (envData) snap.sparkProperties = propertiesRecord(envData.sparkProperties);
}

/** `/allexecutors`, else `/executors`; undefined when neither could be read. */
async function collectExecutors(get: Fetcher, gaps: string[]): Promise<Executor[] | undefined> {
  const all = await get('/allexecutors', z.array(Executor));
  if (all.status === 'ok') return all.data;
  const active = await get('/executors', z.array(Executor));
  if (active.status === 'ok') {
    gaps.push(`${all.message} (fell back to /executors: dead executors and their removeReason are missing)`);
    return active.data;
  }
  gaps.push(all.message, active.message);
  return undefined;
}

const SECRET_KEY = /password|passwd|secret|token|credential|api[._-]?key|access[._-]?key|private[._-]?key/i;

/** `[key, value]` pairs to a record; values of secret-looking keys are redacted. */
export function propertiesRecord(pairs: Array<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) out[k] = SECRET_KEY.test(k) ? '[REDACTED]' : redact(v);
  return out;
}

const metric = (
  s: StageAttempt,
  m: 'executorRunTime' | 'shuffleReadBytes' | 'inputBytes' | 'memoryBytesSpilled',
) => s[m] ?? 0;

/**
 * Stage attempts worth a closer look: failed ones and those with failed tasks first, then the
 * slowest and the biggest (shuffle read, input, spill), capped.
 */
export function selectStages(stages: StageAttempt[]): StageAttempt[] {
  const ran = stages.filter((s) => !['SKIPPED', 'PENDING'].includes(s.status.toUpperCase()));
  const troubled = ran
    .filter((s) => s.status.toUpperCase() === 'FAILED' || (s.numFailedTasks ?? 0) > 0)
    .sort((a, b) => (b.numFailedTasks ?? 0) - (a.numFailedTasks ?? 0));
  const top = (m: Parameters<typeof metric>[1], n: number) =>
    ran
      .filter((s) => metric(s, m) > 0)
      .sort((a, b) => metric(b, m) - metric(a, m))
      .slice(0, n);
  const picked = new Map<string, StageAttempt>();
  const candidates = [
    ...troubled.slice(0, 8),
    ...top('executorRunTime', 3),
    ...top('shuffleReadBytes', 2),
    ...top('inputBytes', 1),
    ...top('memoryBytesSpilled', 1),
  ];
  for (const s of candidates) picked.set(stageKey(s.stageId, s.attemptId), s);
  return [...picked.values()].slice(0, MAX_DETAILED_STAGES);
}

const shuffleRead = (t: Task) =>
  (t.taskMetrics?.shuffleReadMetrics?.remoteBytesRead ?? 0) +
  (t.taskMetrics?.shuffleReadMetrics?.localBytesRead ?? 0);

/** Bounds a stage's `tasks` map: every non-successful task, then the longest, then the biggest readers. */
export function trimTasks(tasks: Record<string, Task>, max = MAX_TASKS_KEPT): Record<string, Task> {
  const all = Object.entries(tasks);
  if (all.length <= max) return tasks;
  const bad = all.filter(([, t]) => t.status !== 'SUCCESS');
  const good = all.filter(([, t]) => t.status === 'SUCCESS');
  const longest = [...good].sort(([, a], [, b]) => (b.duration ?? 0) - (a.duration ?? 0));
  const readers = [...good].sort(([, a], [, b]) => shuffleRead(b) - shuffleRead(a));
  const out = new Map<string, Task>();
  for (const [k, t] of bad) if (out.size < max) out.set(k, t);
  for (let i = 0; out.size < max && i < good.length; i++) {
    const l = longest[i];
    const r = readers[i];
    if (l) out.set(l[0], l[1]);
    if (r && out.size < max) out.set(r[0], r[1]);
  }
  return Object.fromEntries(out);
}

async function collectStage(
  snap: SparkSnapshot,
  get: Fetcher,
  s: StageAttempt,
  gaps: string[],
): Promise<void> {
  const key = stageKey(s.stageId, s.attemptId);
  const rel = `/stages/${s.stageId}/${s.attemptId}`;
  const big = (s.numTasks ?? 0) > MAX_INLINE_TASKS;
  const details = keep(await get(big ? `${rel}?details=false` : rel, StageAttempt), gaps);
  let failed: Task[] | undefined;
  if (details) {
    const tasks = big ? await boundedTasks(get, rel, s, gaps) : details.tasks;
    snap.stageDetails[key] = tasks ? { ...details, tasks: trimTasks(tasks) } : details;
    if (tasks) failed = Object.values(tasks).filter(isFailed);
  }
  if (!failed && !big && (s.numFailedTasks ?? 0) > 0) {
    const only = keep(await get(`${rel}?details=true&taskStatus=FAILED`, StageAttempt), gaps);
    if (only?.tasks) failed = Object.values(only.tasks).filter(isFailed);
  }
  if (failed?.length) snap.failedTasks[key] = failed.sort((a, b) => a.taskId - b.taskId);
  const summary = await collectSummary(get, rel, gaps);
  if (summary) snap.taskSummaries[key] = summary;
  const list = keep(await get(`${rel}/taskList?sortBy=-runtime&length=${TOP_TASKS}`, z.array(Task)), gaps);
  if (list?.length)
    snap.topTasks[key] = [...list].sort((a, b) => (b.duration ?? 0) - (a.duration ?? 0)).slice(0, TOP_TASKS);
}

const isFailed = (t: Task) => t.status.toUpperCase() === 'FAILED';

/** A big stage's tasks without its whole task map: its failed tasks and its longest, at most 1000 each. */
async function boundedTasks(
  get: Fetcher,
  rel: string,
  s: StageAttempt,
  gaps: string[],
): Promise<Record<string, Task> | undefined> {
  const [failed, longest] = await Promise.all([
    (s.numFailedTasks ?? 0) > 0
      ? get(`${rel}/taskList?status=failed&length=${MAX_TASKS_KEPT}`, z.array(Task))
      : Promise.resolve(undefined),
    get(`${rel}/taskList?sortBy=-runtime&length=${MAX_TASKS_KEPT}`, z.array(Task)),
  ]);
  const tasks = [...((failed && keep(failed, gaps)) ?? []), ...(keep(longest, gaps) ?? [])];
  return tasks.length ? Object.fromEntries(tasks.map((t) => [String(t.taskId), t])) : undefined;
}

/** Custom quantiles first, then the server's defaults; the caller reads `quantiles` either way. */
async function collectSummary(get: Fetcher, rel: string, gaps: string[]): Promise<TaskSummary | undefined> {
  const custom = await get(`${rel}/taskSummary?quantiles=${QUANTILES}`, TaskSummary);
  if (custom.status === 'ok') return custom.data;
  const dflt = await get(`${rel}/taskSummary`, TaskSummary);
  if (dflt.status === 'ok') return dflt.data;
  gaps.push(dflt.message);
  return undefined;
}

async function collectLogs(snap: SparkSnapshot, ctx: AdapterContext, gaps: string[]): Promise<void> {
  const requests = logTargets(snap);
  const results = await mapLimit(requests, CONCURRENCY, (r) =>
    streamLog(r, ctx, { onNote: (note) => gaps.push(note) }),
  );
  for (const r of results) {
    const excerpt = keep(r, gaps);
    if (excerpt) snap.logs.push(excerpt);
  }
}
