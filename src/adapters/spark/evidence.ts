import { looksLikeInjection } from '../../core/injection.ts';
import { truncate } from '../../core/redact.ts';
import type { Evidence } from '../../core/report.ts';
import { type EvidenceDraft, gapDrafts, numberEvidence } from '../evidence.ts';
import { failedStageAttempts, failedTasksOf } from './rules/facts.ts';
import { signaturesOf } from './rules/signatures.ts';
import {
  firstLines,
  fmtBytes,
  fmtMs,
  median,
  parseBlockFetch,
  parseMemory,
  pct,
  taskShuffleRead,
} from './rules/util.ts';
import { type LogExcerpt, type SparkSnapshot, type StageAttempt, stageKey, type Task } from './schema.ts';

type Draft = EvidenceDraft;
const MAX_STAGES = 6;
const MAX_LOGS = 8;

function appEvidence(s: SparkSnapshot): Draft {
  const a = s.attempt;
  const jobs = s.jobs.reduce<Record<string, number>>((acc, j) => {
    acc[j.status] = (acc[j.status] ?? 0) + 1;
    return acc;
  }, {});
  const lines = [
    `application ${s.appId}${s.attemptId ? ` attempt ${s.attemptId}` : ''} "${s.app?.name ?? ''}"`,
    `Spark ${a?.appSparkVersion ?? '?'} · completed: ${a?.completed ?? '?'} · duration ${fmtMs(a?.duration)}${a?.exitCode !== undefined ? ` · exit code ${a.exitCode}` : ''}`,
    `jobs: ${
      Object.entries(jobs)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || 'none'
    }`,
  ];
  return {
    key: 'app',
    source: 'spark.app',
    title: `Application ${s.app?.name || s.appId}`,
    excerpt: lines.join('\n'),
    ref: s.apiPrefix,
  };
}

function jobEvidence(s: SparkSnapshot): Draft[] {
  return s.jobs
    .filter((j) => j.status === 'FAILED')
    .map((j) => ({
      key: `job:${j.jobId}`,
      source: 'spark.job',
      title: `Job ${j.jobId} ${j.status}`,
      excerpt: `${firstLines(j.description || j.name, 1, 200)}\nstages ${j.stageIds.join(', ')} · ${j.numTasks ?? '?'} tasks, ${j.numFailedTasks ?? 0} failed, ${j.numKilledTasks ?? 0} killed · ${j.numFailedStages ?? 0} failed stage(s)`,
      ref: `${s.apiPrefix}/jobs/${j.jobId}`,
    }));
}

/** Stage attempts worth showing: failed ones (fatal last → first) and ones with failed tasks. */
function relevantStages(s: SparkSnapshot): StageAttempt[] {
  const failed = failedStageAttempts(s).reverse();
  const keys = new Set(failed.map((x) => stageKey(x.stageId, x.attemptId)));
  const withFailures = [...s.stages, ...Object.values(s.stageDetails)].filter((x) => {
    const k = stageKey(x.stageId, x.attemptId);
    if (keys.has(k) || !((x.numFailedTasks ?? 0) > 0 || failedTasksOf(s, k).length)) return false;
    keys.add(k);
    return true;
  });
  return [...failed, ...withFailures].slice(0, MAX_STAGES);
}

function stageDraft(s: SparkSnapshot, st: StageAttempt, k: string): Draft {
  const lines = [
    `${st.status} · "${st.name}" · ${st.numTasks ?? '?'} tasks: ${st.numCompleteTasks ?? '?'} complete, ${st.numFailedTasks ?? 0} failed, ${st.numKilledTasks ?? 0} killed`,
    `shuffle read ${fmtBytes(st.shuffleReadBytes)} · input ${fmtBytes(st.inputBytes)} · spilled ${fmtBytes(st.diskBytesSpilled)} to disk · GC ${st.executorRunTime ? pct(st.jvmGcTime ?? 0, st.executorRunTime) : 'n/a'} of run time`,
  ];
  if (st.failureReason) lines.push(`failure: ${firstLines(st.failureReason, 3, 700)}`);
  return {
    key: `stage:${k}`,
    source: 'spark.stage',
    title: `Stage ${k} ${st.status}`,
    excerpt: lines.join('\n'),
    ref: `${s.apiPrefix}/stages/${st.stageId}/${st.attemptId}`,
  };
}

function summaryDraft(s: SparkSnapshot, st: StageAttempt, k: string): Draft | undefined {
  const sum = s.taskSummaries[k];
  if (!sum) return undefined;
  const row = (label: string, v: number[] | undefined, f: (n: number) => string) =>
    v?.length ? `${label}: ${v.map(f).join(' / ')}` : undefined;
  const rows = [
    `quantiles (SUCCESS tasks only): ${sum.quantiles.map((q) => `q=${q}`).join(' / ')}`,
    row('duration', sum.duration, fmtMs),
    row('shuffle read', sum.shuffleReadMetrics?.readBytes, fmtBytes),
    row('shuffle records', sum.shuffleReadMetrics?.readRecords, (n) => String(Math.round(n))),
    row('input read', sum.inputMetrics?.bytesRead, fmtBytes),
    row('GC time', sum.jvmGcTime, fmtMs),
    row('peak execution memory', sum.peakExecutionMemory, fmtBytes),
    row('disk spill', sum.diskBytesSpilled, fmtBytes),
  ].filter(Boolean);
  return {
    key: `summary:${k}`,
    source: 'spark.task_summary',
    title: `Task quantiles of stage ${k}`,
    excerpt: rows.join('\n'),
    ref: `${s.apiPrefix}/stages/${st.stageId}/${st.attemptId}/taskSummary?quantiles=${sum.quantiles.join(',')}`,
  };
}

const taskLine = (t: Task) =>
  `task ${t.index}.${t.attempt} ${t.status}${t.speculative ? ' (speculative)' : ''} on executor ${t.executorId} · ${fmtMs(t.duration)} · shuffle read ${fmtBytes(taskShuffleRead(t))} · GC ${fmtMs(t.taskMetrics?.jvmGcTime)}`;

function failedDraft(s: SparkSnapshot, st: StageAttempt, k: string): Draft | undefined {
  const failed = failedTasksOf(s, k);
  if (!failed.length) return undefined;
  const errors = new Map<string, number>();
  for (const t of failed) {
    const e = firstLines(t.errorMessage, 1, 220) || '(no message)';
    errors.set(e, (errors.get(e) ?? 0) + 1);
  }
  const biggest = [...failed]
    .sort((a, b) => (taskShuffleRead(b) ?? 0) - (taskShuffleRead(a) ?? 0))
    .slice(0, 4);
  const lines = [
    `${failed.length} failed attempt(s) over ${new Set(failed.map((t) => t.index)).size} partition(s), on executors ${[...new Set(failed.map((t) => t.executorId))].join(', ')}`,
    ...[...errors].slice(0, 5).map(([e, n]) => `×${n} ${e}`),
    ...biggest.filter((t) => taskShuffleRead(t)).map(taskLine),
  ];
  return {
    key: `failedTasks:${k}`,
    source: 'spark.tasks',
    title: `Failed tasks of stage ${k}`,
    excerpt: lines.join('\n'),
    ref: `${s.apiPrefix}/stages/${st.stageId}/${st.attemptId}/taskList?status=FAILED`,
  };
}

function topDraft(s: SparkSnapshot, st: StageAttempt, k: string): Draft | undefined {
  const top = (s.topTasks[k] ?? []).slice(0, 6);
  if (!top.length || st.status !== 'FAILED') return undefined;
  return {
    key: `topTasks:${k}`,
    source: 'spark.tasks',
    title: `Longest tasks of stage ${k}`,
    excerpt: top.map(taskLine).join('\n'),
    ref: `${s.apiPrefix}/stages/${st.stageId}/${st.attemptId}/taskList?sortBy=-runtime`,
  };
}

function stageEvidence(s: SparkSnapshot): Draft[] {
  return relevantStages(s).flatMap((st) => {
    const k = stageKey(st.stageId, st.attemptId);
    return [stageDraft(s, st, k), summaryDraft(s, st, k), failedDraft(s, st, k), topDraft(s, st, k)].filter(
      (d): d is Draft => d !== undefined,
    );
  });
}

function executorEvidence(s: SparkSnapshot): Draft[] {
  const out: Draft[] = [];
  const ref = `${s.apiPrefix}/allexecutors`;
  const removed = s.executors.filter((e) => e.removeReason || e.isActive === false);
  if (removed.length)
    out.push({
      key: 'executors:removed',
      source: 'spark.executor',
      title: `${removed.length} executor(s) removed`,
      ref,
      excerpt: removed
        .slice(0, 12)
        .map(
          (e) =>
            `executor ${e.id} (${e.hostPort ?? '?'}), ${e.failedTasks ?? 0} failed task(s): ${firstLines(e.removeReason, 2, 260) || 'inactive'}`,
        )
        .join('\n'),
    });
  const heap = parseMemory(s.sparkProperties['spark.executor.memory']);
  const workers = s.executors.filter((e) => e.id !== 'driver' && e.peakMemoryMetrics);
  if (workers.length && (removed.length || workers.some((e) => (e.failedTasks ?? 0) > 0))) {
    const order = [...workers].sort(
      (a, b) =>
        (b.failedTasks ?? 0) - (a.failedTasks ?? 0) || Number(!!b.removeReason) - Number(!!a.removeReason),
    );
    const rows = order.slice(0, 8).map((e) => {
      const m = e.peakMemoryMetrics ?? {};
      return `executor ${e.id}: peak heap ${fmtBytes(m.JVMHeapMemory)}${heap ? ` of ${fmtBytes(heap)}` : ''} · Python RSS ${fmtBytes(m.ProcessTreePythonRSSMemory)} · JVM RSS ${fmtBytes(m.ProcessTreeJVMRSSMemory)} · GC ${e.totalDuration ? pct(e.totalGCTime ?? 0, e.totalDuration) : 'n/a'} of task time · ${e.failedTasks ?? 0} failed`;
    });
    out.push({
      key: 'executors:memory',
      source: 'spark.executor',
      title: 'Executor peak memory',
      ref,
      excerpt: rows.join('\n'),
    });
  }
  const driver = s.executors.find((e) => e.id === 'driver');
  const dHeap = parseMemory(s.sparkProperties['spark.driver.memory']);
  const dPeak = driver?.peakMemoryMetrics?.JVMHeapMemory;
  if (dPeak && dHeap && dPeak / dHeap >= 0.5)
    out.push({
      key: 'executor:driver',
      source: 'spark.executor',
      title: 'Driver peak memory',
      ref,
      excerpt: `driver peak heap ${fmtBytes(dPeak)} of ${fmtBytes(dHeap)} (spark.driver.memory) · maxResultSize ${s.sparkProperties['spark.driver.maxResultSize'] ?? 'default (1g)'}`,
    });
  return out;
}

const PROP =
  /^spark\.(?:master|submit\.deployMode|executor\.(?:memory|memoryOverhead|memoryOverheadFactor|cores|instances|pyspark\.memory)|driver\.(?:memory|maxResultSize|memoryOverhead)|sql\.(?:shuffle\.partitions|adaptive\.enabled|adaptive\.skewJoin\.enabled|autoBroadcastJoinThreshold)|dynamicAllocation\.enabled|shuffle\.service\.enabled|decommission\.enabled|storage\.decommission\.enabled|task\.maxFailures|memory\.fraction|pyspark\.python|sql\.sources\.partitionOverwriteMode)$/;

function envEvidence(s: SparkSnapshot): Draft[] {
  const props = Object.entries(s.sparkProperties)
    .filter(([k]) => PROP.test(k))
    .sort(([a], [b]) => a.localeCompare(b));
  if (!props.length) return [];
  return [
    {
      key: 'env:props',
      source: 'spark.environment',
      title: 'Relevant Spark properties',
      excerpt: props.map(([k, v]) => `${k}=${v}`).join('\n'),
      ref: `${s.apiPrefix}/environment`,
    },
  ];
}

function lineScore(text: string, bigFetch: number): number {
  if (/^\s+at /.test(text)) return 0;
  const sigs = signaturesOf(text);
  if (sigs.size && !(sigs.size === 1 && sigs.has('connect_failed'))) return 3;
  const fetch = parseBlockFetch(text);
  if (fetch !== undefined) return fetch >= bigFetch ? 2 : 0;
  return /\b(?:ERROR|WARN)\b/.test(text) ? 1 : 0;
}

function logDraft(log: LogExcerpt, bigFetch: number): { draft: Draft; score: number } | undefined {
  const scored = log.lines.map((l) => ({
    ...l,
    s: looksLikeInjection(l.text) ? -1 : lineScore(l.text, bigFetch),
  }));
  scored.forEach((l, i) => {
    if (l.s === 3)
      for (const next of scored.slice(i + 1, i + 6))
        if (next.s === 0 && !/^\s+at /.test(next.text)) next.s = 1;
  });
  const best = Math.max(0, ...scored.map((l) => l.s));
  if (best < 2) return undefined;
  const keep = [...scored]
    .filter((l) => l.s > 0)
    .sort((a, b) => b.s - a.s || a.n - b.n)
    .slice(0, 14)
    .sort((a, b) => a.n - b.n);
  const text = keep.map((l) => `L${l.n}: ${truncate(l.text, 300)}`).join('\n');
  const who = log.executorId === 'driver' ? 'Driver' : `Executor ${log.executorId}`;
  const draft: Draft = {
    key: `log:${log.executorId}:${log.stream}`,
    source: 'spark.log',
    title: `${who} ${log.stream}${log.truncated ? ' (partly read)' : ''}`,
    excerpt: text,
    ref: log.url,
  };
  return {
    draft,
    score: scored.reduce((a, l) => a + Math.max(0, l.s), 0) + (log.executorId === 'driver' ? 1000 : 0),
  };
}

function logEvidence(s: SparkSnapshot): Draft[] {
  const fetches = s.logs
    .flatMap((l) => l.lines.map((x) => parseBlockFetch(x.text) ?? -1))
    .filter((v) => v >= 0);
  const bigFetch = 4 * (median(fetches) ?? Number.POSITIVE_INFINITY);
  return s.logs
    .map((l) => logDraft(l, bigFetch))
    .filter((x): x is { draft: Draft; score: number } => x !== undefined)
    .sort((a, b) => b.score - a.score || a.draft.key.localeCompare(b.draft.key))
    .slice(0, MAX_LOGS)
    .map((x) => x.draft);
}

/**
 * Evidence for a Spark snapshot: the app, failed jobs, failed (or noisy) stages with quantiles and
 * failed/top tasks, removed executors and memory peaks, relevant properties, log excerpts with
 * signatures, gaps. Ids E1… in that stable order; `evidenceIndex` maps stable keys to ids.
 */
export function buildEvidence(
  snapshot: SparkSnapshot,
  gaps: string[],
): { evidence: Evidence[]; evidenceIndex: Record<string, string> } {
  const drafts: Draft[] = [
    appEvidence(snapshot),
    ...jobEvidence(snapshot),
    ...stageEvidence(snapshot),
    ...executorEvidence(snapshot),
    ...envEvidence(snapshot),
    ...logEvidence(snapshot),
    ...gapDrafts('spark', gaps),
  ];
  const { evidence, evidenceIndex } = numberEvidence(drafts);
  const removedId = evidenceIndex['executors:removed'];
  for (const e of snapshot.executors)
    if (removedId && (e.removeReason || e.isActive === false))
      evidenceIndex[`executor:${e.id}`] ??= removedId;
  return { evidence, evidenceIndex };
}
