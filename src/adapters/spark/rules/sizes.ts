import type { SparkSnapshot, Task } from '../schema.ts';
import type { SparkFacts } from './facts.ts';
import { signaturesOf } from './signatures.ts';
import {
  median,
  parseBlockFetch,
  type QuantileView,
  quantileView,
  taskInputRead,
  taskShuffleRead,
} from './util.ts';

/** How big the failing tasks were compared with the ones that succeeded (skew vs even work). */
export interface SizeFacts {
  metric: 'shuffle read' | 'input read';
  /** Quantiles of SUCCESS tasks only (Spark's taskSummary), or computed from task details. */
  success: QuantileView;
  failedSizes: Array<{ task: Task; bytes: number }>;
  /** Largest failed-attempt size / success median. */
  failedRatio?: number;
  /** Task-caused failures (not fetch failures, not executors lost for unrelated reasons). */
  taskCaused: Task[];
  distinctFailedPartitions: number;
  numTasks: number;
  /** `Getting N (X) non-empty blocks` lines of executor logs. */
  fetch: { median?: number; max?: number; ratio?: number; bigExecutors: string[]; bigKeys: string[] };
  /** GC time / run time of successful tasks (median) or of the stage. */
  gcRatio?: number;
}

function successView(snap: SparkSnapshot, key: string): { metric: SizeFacts['metric']; view: QuantileView } {
  const sum = snap.taskSummaries[key];
  if (sum) {
    const shuffle = quantileView(sum, sum.shuffleReadMetrics?.readBytes);
    if ((shuffle.high?.v ?? 0) > 0) return { metric: 'shuffle read', view: shuffle };
    const input = quantileView(sum, sum.inputMetrics?.bytesRead);
    if ((input.high?.v ?? 0) > 0) return { metric: 'input read', view: input };
  }
  const ok = Object.values(snap.stageDetails[key]?.tasks ?? {}).filter((t) => t.status === 'SUCCESS');
  const shuffle = ok.map(taskShuffleRead).filter((v): v is number => v !== undefined);
  const useShuffle = shuffle.some((v) => v > 0);
  const values = useShuffle ? shuffle : ok.map(taskInputRead).filter((v): v is number => v !== undefined);
  const m = median(values);
  if (m === undefined) return { metric: 'shuffle read', view: {} };
  return {
    metric: useShuffle ? 'shuffle read' : 'input read',
    view: { median: { q: 0.5, v: m }, high: { q: 1, v: Math.max(...values) } },
  };
}

function fetchFacts(f: SparkFacts, suspects: Set<string>): SizeFacts['fetch'] {
  const all: Array<{ bytes: number; exec: string; key: string }> = [];
  for (const log of f.snap.logs) {
    if (log.executorId === 'driver') continue;
    for (const l of log.lines) {
      const bytes = parseBlockFetch(l.text);
      if (bytes !== undefined)
        all.push({ bytes, exec: log.executorId, key: `log:${log.executorId}:${log.stream}` });
    }
  }
  const med = median(all.map((a) => a.bytes));
  if (!all.length || !med) return { bigExecutors: [], bigKeys: [] };
  const max = Math.max(...all.map((a) => a.bytes));
  const big = all.filter((a) => a.bytes >= 4 * med && suspects.has(a.exec));
  return {
    median: med,
    max,
    ratio: max / med,
    bigExecutors: [...new Set(big.map((b) => b.exec))],
    bigKeys: [...new Set(big.map((b) => b.key))],
  };
}

function gcRatio(snap: SparkSnapshot, key: string): number | undefined {
  const sum = snap.taskSummaries[key];
  if (sum?.jvmGcTime && sum.executorRunTime) {
    const i = sum.quantiles.indexOf(
      sum.quantiles.reduce((b, q) => (Math.abs(q - 0.5) < Math.abs(b - 0.5) ? q : b), 0),
    );
    const run = sum.executorRunTime[i] ?? 0;
    if (run > 0) return (sum.jvmGcTime[i] ?? 0) / run;
  }
  const st = snap.stageDetails[key] ?? snap.stages.find((s) => `${s.stageId}.${s.attemptId}` === key);
  return st?.executorRunTime ? (st.jvmGcTime ?? 0) / st.executorRunTime : undefined;
}

/** Sizes of the focus stage's failing tasks against its successful ones. */
export function sizeFacts(f: SparkFacts): SizeFacts | undefined {
  const key = f.focusKey;
  if (!key || !f.focus) return undefined;
  const { metric, view } = successView(f.snap, key);
  const failed = f.failedTasksByKey.get(key) ?? [];
  const taskCaused = failed.filter((t) => {
    const s = signaturesOf(t.errorMessage);
    return !s.has('fetch_failed') && !s.has('unrelated_exit') && !s.has('node_lost');
  });
  const read = metric === 'shuffle read' ? taskShuffleRead : taskInputRead;
  const failedSizes = taskCaused
    .map((task) => ({ task, bytes: read(task) ?? 0 }))
    .filter((x) => x.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  const med = view.median?.v;
  const suspects = new Set([...taskCaused.map((t) => t.executorId), ...f.removed.map((e) => e.id)]);
  return {
    metric,
    success: view,
    failedSizes,
    failedRatio: med && failedSizes[0] ? failedSizes[0].bytes / med : undefined,
    taskCaused,
    distinctFailedPartitions: new Set(taskCaused.map((t) => t.index)).size,
    numTasks: f.focus.numTasks ?? Object.keys(f.snap.stageDetails[key]?.tasks ?? {}).length,
    fetch: fetchFacts(f, suspects),
    gcRatio: gcRatio(f.snap, key),
  };
}
