import { looksLikeInjection } from '../../../core/injection.ts';
import type { Executor, Job, SparkSnapshot, StageAttempt, Task } from '../schema.ts';
import { stageKey } from '../schema.ts';
import { type Sig, signaturesOf } from './signatures.ts';

/** Where a signature was seen, and the evidence key (evidence.ts) that shows it. */
export interface Signal {
  sig: Sig;
  source: 'stage' | 'task' | 'executor' | 'log';
  key: string;
  text: string;
  executorId?: string;
  /** Seen in the driver (driver log, or a driver-side failure reason). */
  driver: boolean;
  stageKey?: string;
  partition?: number;
  /** From the failure reason of the stage attempt that failed the job. */
  fatal?: boolean;
}

/** The snapshot, read once into the relations the rules reason about. */
export interface SparkFacts {
  snap: SparkSnapshot;
  failedJobs: Job[];
  failedStageAttempts: StageAttempt[];
  /** The stage attempt whose failure failed the job (latest failed attempt). */
  focus?: StageAttempt;
  focusKey?: string;
  failedTasksByKey: Map<string, Task[]>;
  removed: Executor[];
  signals: Signal[];
  props: Record<string, string>;
}

const keyOf = (s: StageAttempt) => stageKey(s.stageId, s.attemptId);

/** FAILED task attempts of a stage attempt, from the failed-task list and the stage details. */
export function failedTasksOf(snap: SparkSnapshot, key: string): Task[] {
  const seen = new Map<number, Task>();
  for (const t of snap.failedTasks[key] ?? []) if (t.status === 'FAILED') seen.set(t.taskId, t);
  for (const t of Object.values(snap.stageDetails[key]?.tasks ?? {}))
    if (t.status === 'FAILED' && !seen.has(t.taskId)) seen.set(t.taskId, t);
  return [...seen.values()].sort((a, b) => a.taskId - b.taskId);
}

/** Stage attempts that failed, oldest first. */
export function failedStageAttempts(snap: SparkSnapshot): StageAttempt[] {
  const byKey = new Map<string, StageAttempt>();
  for (const s of [...snap.stages, ...Object.values(snap.stageDetails)])
    if (s.status === 'FAILED' && !byKey.has(keyOf(s))) byKey.set(keyOf(s), s);
  const when = (s: StageAttempt) => s.completionTime ?? s.submissionTime ?? '';
  return [...byKey.values()].sort(
    (a, b) => when(a).localeCompare(when(b)) || a.stageId - b.stageId || a.attemptId - b.attemptId,
  );
}

function pickFocus(failed: StageAttempt[], failedJobs: Job[]): StageAttempt | undefined {
  const inFailedJob = new Set(failedJobs.flatMap((j) => j.stageIds));
  const candidates = failed.filter((s) => inFailedJob.has(s.stageId));
  return (candidates.length ? candidates : failed).at(-1);
}

function push(out: Signal[], text: string | undefined, base: Omit<Signal, 'sig' | 'text'>): void {
  if (!text || looksLikeInjection(text)) return;
  for (const sig of signaturesOf(text)) out.push({ ...base, sig, text });
}

function taskSignals(snap: SparkSnapshot, keys: string[], out: Signal[]): Map<string, Task[]> {
  const byKey = new Map<string, Task[]>();
  for (const key of keys) {
    const failed = failedTasksOf(snap, key);
    byKey.set(key, failed);
    const killed = Object.values(snap.stageDetails[key]?.tasks ?? {}).filter(
      (t) => t.status === 'KILLED' && !/Stage cancelled/.test(t.errorMessage ?? ''),
    );
    for (const t of [...failed, ...killed])
      push(out, t.errorMessage?.split('\n\tat ')[0], {
        source: 'task',
        key: `failedTasks:${key}`,
        executorId: t.executorId,
        driver: false,
        stageKey: key,
        partition: t.index,
      });
  }
  return byKey;
}

function logSignals(snap: SparkSnapshot, out: Signal[]): void {
  for (const log of snap.logs) {
    for (const line of log.lines) {
      if (/^\s+at /.test(line.text)) continue;
      // The driver logs executors' task failures too: those are executor-side signals.
      const about = line.text.match(/\bexecutor (?:id )?(\w+)\b|\bLost task\b|ExecutorLostFailure/i);
      const executorId = about ? (about[1] ?? 'unknown') : log.executorId;
      push(out, line.text, {
        source: 'log',
        key: `log:${log.executorId}:${log.stream}`,
        executorId,
        driver: log.executorId === 'driver' && !about,
      });
    }
  }
}

/** Reads a snapshot into facts and signals. Pure. */
export function readFacts(snap: SparkSnapshot): SparkFacts {
  const failedJobs = snap.jobs.filter((j) => j.status === 'FAILED');
  const failed = failedStageAttempts(snap);
  const focus = pickFocus(failed, failedJobs);
  const signals: Signal[] = [];
  for (const s of failed) {
    const reason = s.failureReason?.split('\n\tat ')[0];
    const fatal = s === focus;
    const driver = !/Lost task|executor \S+\)|ExecutorLostFailure/.test(reason ?? '');
    push(signals, reason, { source: 'stage', key: `stage:${keyOf(s)}`, driver, stageKey: keyOf(s), fatal });
  }
  const keys = new Set([
    ...failed.map(keyOf),
    ...Object.keys(snap.failedTasks),
    ...Object.keys(snap.stageDetails),
  ]);
  const failedTasksByKey = taskSignals(snap, [...keys].sort(), signals);
  const removed = snap.executors.filter((e) => e.removeReason || e.isActive === false);
  for (const e of removed)
    push(signals, e.removeReason, {
      source: 'executor',
      key: 'executors:removed',
      executorId: e.id,
      driver: false,
    });
  logSignals(snap, signals);
  return {
    snap,
    failedJobs,
    failedStageAttempts: failed,
    focus,
    focusKey: focus ? keyOf(focus) : undefined,
    failedTasksByKey,
    removed,
    signals,
    props: snap.sparkProperties,
  };
}

/** Signals matching any of `sigs`, optionally filtered. */
export function sigs(f: SparkFacts, wanted: Iterable<Sig>, filter?: (s: Signal) => boolean): Signal[] {
  const set = new Set(wanted);
  return f.signals.filter((s) => set.has(s.sig) && (!filter || filter(s)));
}

/** Distinct evidence keys of some signals, in first-seen order. */
export function keysOf(signals: Signal[]): string[] {
  return [...new Set(signals.map((s) => s.key))];
}
