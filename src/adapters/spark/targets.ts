import { fullLogUrl, type LogRequest } from './logs.ts';
import type { Executor, SparkSnapshot } from './schema.ts';

/** Executors (driver included) whose logs are streamed; two streams each. */
const MAX_LOG_EXECUTORS = 8;

const EXECUTOR_MENTION = /\bexecutor (\d+|driver)\b|BlockManagerId\((\d+|driver),/g;

/** Executor ids named in failure reasons and failed-task errors, in order of first mention. */
export function mentionedExecutors(snap: SparkSnapshot): string[] {
  const texts = [
    ...snap.stages.map((s) => s.failureReason ?? ''),
    ...Object.values(snap.failedTasks).flatMap((ts) => ts.map((t) => t.errorMessage ?? '')),
  ];
  const out: string[] = [];
  for (const text of texts)
    for (const m of text.matchAll(EXECUTOR_MENTION)) {
      const id = m[1] ?? m[2];
      if (id && !out.includes(id)) out.push(id);
    }
  return out;
}

/**
 * Executors whose logs matter, most telling first: the driver (when it has log links), executors
 * named in failures, executors with failed tasks (most first), dead executors with a removeReason.
 */
export function logTargets(snap: SparkSnapshot, max = MAX_LOG_EXECUTORS): LogRequest[] {
  const withLogs = snap.executors.filter((e) =>
    Object.values(e.executorLogs).some((u) => /^https?:\/\//i.test(u)),
  );
  const byId = new Map(withLogs.map((e) => [e.id, e]));
  const order = [
    'driver',
    ...mentionedExecutors(snap),
    ...failedTaskExecutors(snap, withLogs),
    ...withLogs.filter((e) => e.removeReason).map((e) => e.id),
  ];
  const ids = [...new Set(order)].filter((id) => byId.has(id)).slice(0, max);
  return ids.flatMap((id) => {
    const logs = byId.get(id)?.executorLogs ?? {};
    const streams = Object.keys(logs)
      .sort((a, b) => streamRank(a) - streamRank(b))
      .filter((k) => streamRank(k) < 2);
    return streams
      .map((stream) => ({ executorId: id, stream, url: fullLogUrl(logs[stream] ?? '') }))
      .filter((r) => /^https?:\/\//i.test(r.url));
  });
}

function failedTaskExecutors(snap: SparkSnapshot, executors: Executor[]): string[] {
  const counts = new Map<string, number>();
  for (const e of executors) if ((e.failedTasks ?? 0) > 0) counts.set(e.id, e.failedTasks ?? 0);
  for (const t of Object.values(snap.failedTasks).flat())
    counts.set(t.executorId, (counts.get(t.executorId) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([id]) => id);
}

const streamRank = (s: string) => (s === 'stderr' ? 0 : s === 'stdout' ? 1 : 2);
