import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildEvidence } from '../../src/adapters/spark/evidence.ts';
import { LOG_CONTEXT_LINES, LOG_PATTERNS } from '../../src/adapters/spark/patterns.ts';
import { sparkRules } from '../../src/adapters/spark/rules.ts';
import { type LogExcerpt, SparkSnapshot, stageKey } from '../../src/adapters/spark/schema.ts';
import type { Finding, PinResult, RuleOutcome } from '../../src/adapters/types.ts';

/*
 * Test-only: assembles a SparkSnapshot straight from a scenario's recorded files (scenario.json routes),
 * without HTTP, so the rules can be developed and tested independently of the collector.
 */

interface Route {
  method: string;
  path: string;
  query?: Record<string, string>;
  file: string;
}

interface Scenario {
  target: string;
  routes: Route[];
  expect: {
    category: string | null;
    culprit?: { kind: string; id: string; aliases?: string[] };
    alternatives: string[];
  };
}

export function readScenario(dir: string): Scenario {
  return JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8')) as Scenario;
}

function filterLog(text: string): LogExcerpt['lines'] {
  const lines = text.split('\n');
  const keep = new Set<number>();
  lines.forEach((line, i) => {
    if (!LOG_PATTERNS.some((re) => re.test(line))) return;
    for (
      let j = Math.max(0, i - LOG_CONTEXT_LINES);
      j <= Math.min(lines.length - 1, i + LOG_CONTEXT_LINES);
      j++
    )
      keep.add(j);
  });
  return [...keep]
    .sort((a, b) => a - b)
    .filter((i) => (lines[i] ?? '').length > 0)
    .map((i) => ({ n: i + 1, text: lines[i] ?? '' }));
}

/** Options to vary what a test sees (e.g. another quantile set, or no logs). */
export interface FromFilesOptions {
  /** Which taskSummary variant to load: default quantiles, `q5` (0,.25,.5,.75,1) or `q3` (.01,.5,.99). */
  summary?: 'default' | 'q5' | 'q3';
  logs?: boolean;
}

export function sparkSnapshotFromFiles(dir: string, opts: FromFilesOptions = {}): SparkSnapshot {
  const sc = readScenario(dir);
  const appId = sc.target.split(/\s+/)[1] ?? '';
  const byPath = (p: string, q?: Record<string, string>) =>
    sc.routes.find((r) => r.path === p && JSON.stringify(r.query ?? {}) === JSON.stringify(q ?? {}));
  const json = (r: Route | undefined): unknown =>
    r ? JSON.parse(readFileSync(join(dir, r.file), 'utf8').replaceAll('{base}', '')) : undefined;
  const attemptId = sc.routes.some((r) => r.path.startsWith(`/api/v1/applications/${appId}/1/`))
    ? '1'
    : undefined;
  const prefix = `/api/v1/applications/${appId}${attemptId ? `/${attemptId}` : ''}`;
  const app = json(byPath(`/api/v1/applications/${appId}`)) as { attempts?: unknown[] } | undefined;
  const stageDetails: Record<string, unknown> = {};
  const taskSummaries: Record<string, unknown> = {};
  const topTasks: Record<string, unknown> = {};
  const failedTasks: Record<string, unknown> = {};
  for (const r of sc.routes) {
    const m = r.path.match(/\/stages\/(\d+)\/(\d+)(\/taskSummary|\/taskList)?$/);
    if (!m || !r.path.startsWith(prefix)) continue;
    const key = stageKey(Number(m[1]), Number(m[2]));
    const q = r.query ?? {};
    if (!m[3] && !q.taskStatus) stageDetails[key] = json(r);
    if (!m[3] && q.taskStatus === 'FAILED') failedTasks[key] = (json(r) as { tasks?: object }).tasks;
    if (m[3] === '/taskList') topTasks[key] = json(r);
    if (m[3] === '/taskSummary') {
      const variant = q.quantiles === '0.01,0.5,0.99' ? 'q3' : q.quantiles ? 'q5' : 'default';
      if (variant === (opts.summary ?? 'default') || !taskSummaries[key]) taskSummaries[key] = json(r);
    }
  }
  for (const [k, v] of Object.entries(failedTasks)) failedTasks[k] = v ? Object.values(v) : [];
  for (const [k, v] of Object.entries(stageDetails)) {
    const tasks = (v as { tasks?: Record<string, { status: string }> }).tasks;
    if (!failedTasks[k] && tasks) failedTasks[k] = Object.values(tasks).filter((t) => t.status === 'FAILED');
  }
  const executors = (json(byPath(`${prefix}/allexecutors`)) ?? []) as Array<{
    id: string;
    executorLogs?: Record<string, string>;
  }>;
  const logs: LogExcerpt[] = [];
  if (opts.logs !== false) {
    for (const ex of executors) {
      for (const [stream, url] of Object.entries(ex.executorLogs ?? {})) {
        const u = new URL(url, 'http://x');
        const route = byPath(u.pathname, Object.fromEntries(u.searchParams)) ?? byPath(u.pathname);
        if (!route) continue;
        const text = readFileSync(join(dir, route.file), 'utf8');
        logs.push({
          executorId: ex.id,
          stream,
          url,
          lines: filterLog(text),
          bytesRead: text.length,
          truncated: false,
        });
      }
    }
  }
  const env = json(byPath(`${prefix}/environment`)) as { sparkProperties?: [string, string][] } | undefined;
  return SparkSnapshot.parse({
    appId,
    attemptId,
    apiPrefix: prefix,
    app,
    attempt: (app?.attempts ?? []).at(-1),
    jobs: json(byPath(`${prefix}/jobs`)) ?? [],
    stages: json(byPath(`${prefix}/stages`)) ?? [],
    stageDetails,
    failedTasks,
    taskSummaries,
    topTasks,
    executors,
    sparkProperties: Object.fromEntries(env?.sparkProperties ?? []),
    logs,
  });
}

/* Small hand-made Spark snapshots for rule unit tests. */

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export { GiB, MiB };

export interface TaskSpec {
  index: number;
  attempt?: number;
  status?: string;
  executorId?: string;
  shuffle?: number;
  error?: string;
}

export function task(s: TaskSpec, id: number) {
  return {
    taskId: id,
    index: s.index,
    attempt: s.attempt ?? 0,
    executorId: s.executorId ?? '1',
    status: s.status ?? 'SUCCESS',
    duration: 5000,
    ...(s.error ? { errorMessage: s.error } : {}),
    ...(s.shuffle !== undefined
      ? {
          taskMetrics: {
            executorRunTime: 4000,
            jvmGcTime: 400,
            shuffleReadMetrics: { remoteBytesRead: s.shuffle, localBytesRead: 0 },
          },
        }
      : {}),
  };
}

/** A failed stage `sid.0` in job 1 with the given failed tasks; success quantiles around `median`. */
export function failingApp(opts: {
  failed: TaskSpec[];
  median?: number;
  reason?: string;
  numTasks?: number;
  gc?: number;
  executors?: unknown[];
  logs?: Array<{ executorId: string; lines: string[] }>;
  props?: Record<string, string>;
  jobStatus?: string;
  stageStatus?: string;
  sid?: number;
}): SparkSnapshot {
  const sid = opts.sid ?? 4;
  const med = opts.median ?? 200 * MiB;
  const key = `${sid}.0`;
  const failed = opts.failed.map((t, i) => task({ ...t, status: 'FAILED' }, 1000 + i));
  return SparkSnapshot.parse({
    appId: 'app-x-1',
    apiPrefix: '/api/v1/applications/app-x-1',
    app: { id: 'app-x-1', name: 'nightly_thing', attempts: [{ completed: true }] },
    attempt: { completed: true, appSparkVersion: '3.4.2' },
    jobs: [
      { jobId: 0, status: 'SUCCEEDED', stageIds: [0] },
      { jobId: 1, status: opts.jobStatus ?? 'FAILED', stageIds: [sid - 1, sid] },
    ],
    stages: [
      {
        stageId: sid,
        attemptId: 0,
        status: opts.stageStatus ?? 'FAILED',
        numTasks: opts.numTasks ?? 64,
        failureReason: opts.reason,
        executorRunTime: 100_000,
        jvmGcTime: (opts.gc ?? 0.05) * 100_000,
      },
      { stageId: sid - 1, attemptId: 0, status: 'COMPLETE', numTasks: 16 },
    ],
    failedTasks: { [key]: failed },
    taskSummaries: {
      [key]: {
        quantiles: [0.01, 0.5, 0.99],
        executorRunTime: [3000, 4000, 5000],
        jvmGcTime: [100, (opts.gc ?? 0.05) * 4000, 600],
        shuffleReadMetrics: { readBytes: [med * 0.8, med, med * 1.2], readRecords: [1e6, 1.2e6, 1.4e6] },
      },
    },
    executors: opts.executors ?? [
      { id: 'driver' },
      { id: '1', maxMemory: 2.1 * GiB },
      { id: '2', maxMemory: 2.1 * GiB },
    ],
    sparkProperties: opts.props ?? { 'spark.executor.memory': '4g' },
    logs: (opts.logs ?? []).map((l) => ({
      executorId: l.executorId,
      stream: 'stderr',
      url: `http://logs/${l.executorId}/stderr`,
      lines: l.lines.map((text, i) => ({ n: i + 1, text })),
      bytesRead: 100,
      truncated: false,
    })),
  });
}

const PIN: PinResult = {
  pinned: { ref: 'app-x-1', codeRef: null, dataRef: null, deterministic: false },
  target: { platform: 'spark', appId: 'app-x-1' },
};

/** Runs evidence + rules over a snapshot. */
export function diagnose(snap: SparkSnapshot, gaps: string[] = []) {
  const { evidence, evidenceIndex } = buildEvidence(snap, gaps);
  const out: RuleOutcome = sparkRules({ evidence, evidenceIndex, gaps, facts: snap }, PIN);
  const confirmed = out.findings.filter((f) => f.status === 'confirmed');
  const byCat = (c: string): Finding | undefined => out.findings.find((f) => f.category === c);
  return { out, evidence, evidenceIndex, confirmed, top: confirmed[0], byCat };
}

export const HEAP_OOM =
  'java.lang.OutOfMemoryError: Java heap space\n\tat java.util.Arrays.copyOf(Arrays.java:3537)';
