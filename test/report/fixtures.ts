import { Report } from '../../src/core/report.ts';
import type { Target } from '../../src/core/target.ts';

export const sparkTarget: Target = { platform: 'spark', appId: 'app-20261002031500-0117', attempt: '1' };

const skewLog = [
  '26/10/02 03:41:07 INFO ShuffleBlockFetcherIterator: Getting 200 (6.8 GiB) non-empty blocks including 4 (210.3 MiB) local',
  '26/10/02 03:44:52 ERROR Executor: Exception in task 12.3 in stage 5.0 (TID 911)',
  'java.lang.OutOfMemoryError: Java heap space',
  '\tat org.apache.spark.sql.execution.joins.SortMergeJoinScanner.bufferMatchingRows(SortMergeJoinExec.scala:1102)',
].join('\n');

/** A spark.data_skew diagnosis whose OOM red herring (spark.executor_oom) is dismissed. */
export function skewReport(): Report {
  return Report.parse({
    id: 'inc_7k2m9q',
    target: sparkTarget,
    pinned: { ref: 'app-20261002031500-0117/1', codeRef: null, dataRef: null, deterministic: true },
    evidence: [
      {
        id: 'E1',
        source: 'spark.application',
        title: 'billing_rollup attempt 1 failed after 31 min',
        excerpt: 'attempt 1: completed=true, duration=1874s, sparkUser=etl',
        ref: '/api/v1/applications/app-20261002031500-0117',
      },
      {
        id: 'E2',
        source: 'spark.stage',
        title: 'Stage 5.0 failed: task 12 failed 4 times',
        excerpt:
          'Job aborted due to stage failure: Task 12 in stage 5.0 failed 4 times, most recent failure: Lost task 12.3 in stage 5.0 (TID 911) (10.0.3.21 executor 6): java.lang.OutOfMemoryError: Java heap space',
        ref: '/api/v1/applications/app-20261002031500-0117/1/stages/5/0',
      },
      {
        id: 'E3',
        source: 'spark.task_summary',
        title: 'Stage 5.0 shuffle read: median 142 MiB, max 6.8 GiB (49x)',
        excerpt:
          'shuffleReadBytes quantiles [0.0, 0.25, 0.5, 0.75, 1.0]: 98 MiB, 131 MiB, 142 MiB, 150 MiB, 166 MiB (SUCCESS tasks)\ntask 12 attempts fetched 6.1-6.8 GiB',
        ref: '/api/v1/applications/app-20261002031500-0117/1/stages/5/0/taskSummary?quantiles=0,0.25,0.5,0.75,1.0',
      },
      {
        id: 'E4',
        source: 'spark.executor_log',
        title: 'executor 6 stderr: fetch of 6.8 GiB then OOM',
        excerpt: skewLog,
        ref: 'http://10.0.3.21:8081/logPage/?appId=app-20261002031500-0117&executorId=6&logType=stderr',
      },
      {
        id: 'E5',
        source: 'spark.environment',
        title: 'AQE skew join disabled',
        excerpt:
          'spark.sql.adaptive.enabled=true\nspark.sql.adaptive.skewJoin.enabled=false\nspark.executor.memory=8g',
        ref: '/api/v1/applications/app-20261002031500-0117/1/environment',
      },
      {
        id: 'E6',
        source: 'spark.executor',
        title: 'Other executors: peak heap 3.1 GiB of 8 GiB, GC 2%',
        excerpt: 'executors 1-5,7-9: peakJVMHeapMemory ≤ 3.1 GiB, totalGCTime/totalDuration ≤ 2%',
        ref: '/api/v1/applications/app-20261002031500-0117/1/allexecutors',
      },
    ],
    hypotheses: [
      {
        category: 'spark.data_skew',
        title: 'One partition of stage 5 carries a hot join key',
        likelihood: 85,
        status: 'confirmed',
        evidenceFor: ['E3', 'E4', 'E5'],
        evidenceAgainst: [],
        reasoning:
          'Every attempt of task 12 fetched ~49x the median shuffle read and died; the other tasks finished.',
      },
      {
        category: 'spark.executor_oom',
        title: 'Executors are undersized for evenly sized work',
        likelihood: 10,
        status: 'dismissed',
        evidenceFor: ['E2'],
        evidenceAgainst: ['E3', 'E6'],
        reasoning: 'The OOM hits only the oversized task; other executors peaked at 39% of heap.',
      },
      {
        category: 'spark.memory_overhead_exceeded',
        title: 'Containers killed for off-heap memory',
        likelihood: 5,
        status: 'dismissed',
        evidenceFor: [],
        evidenceAgainst: ['E2'],
        reasoning: 'The failure is a Java heap OutOfMemoryError, not a container kill.',
      },
    ],
    rootCause: {
      category: 'spark.data_skew',
      confidence: 85,
      culprit: { kind: 'stage', id: '5' },
      summary:
        'Task 12 of stage 5 (sort-merge join) read 6.8 GiB while the median task read 142 MiB: a hot key lands in one partition, and AQE skew join is off.',
      evidence: ['E3', 'E4', 'E5'],
    },
    remediation: {
      action: 'fix',
      summary:
        'Enable AQE skew join (spark.sql.adaptive.skewJoin.enabled=true) or salt the hot key; more heap would only move the failure.',
      fix: {
        files: ['jobs/billing_rollup/conf/spark-defaults.conf'],
        diff: '--- a/jobs/billing_rollup/conf/spark-defaults.conf\n+++ b/jobs/billing_rollup/conf/spark-defaults.conf\n@@ -3 +3 @@\n-spark.sql.adaptive.skewJoin.enabled false\n+spark.sql.adaptive.skewJoin.enabled true\n',
      },
      prevention: 'Add a check on the join key distribution of the input before the join.',
      monitoring: 'Alert when max/median shuffle read of a stage exceeds 10x.',
    },
    engine: 'rules',
    gaps: [],
  });
}

/** A report that abstains: the evidence does not decide, and the driver log could not be read. */
export function abstainReport(): Report {
  const base = skewReport();
  return Report.parse({
    ...base,
    id: 'inc_abst41n',
    evidence: base.evidence.slice(0, 2),
    hypotheses: [
      {
        ...base.hypotheses[1],
        status: 'inconclusive',
        likelihood: 35,
        evidenceFor: ['E2'],
        evidenceAgainst: [],
      },
      {
        ...base.hypotheses[2],
        status: 'inconclusive',
        likelihood: 30,
        evidenceFor: [],
        evidenceAgainst: [],
        reasoning: 'No container exit codes were available to tell heap from overhead.',
      },
    ],
    rootCause: null,
    remediation: {
      action: 'escalate',
      summary:
        'The executor logs and task summaries would decide between heap and overhead; collect them and rerun Heal.',
      fix: null,
      prevention: 'Keep executor logs on the History Server (spark.eventLog + log aggregation).',
      monitoring: 'Alert on executor loss with exit code 137/143.',
    },
    gaps: [
      'Executor logs unreachable: GET http://10.0.3.21:8081/logPage/ → connect ECONNREFUSED',
      'Task summary for stage 5.0 returned 500 Internal Server Error',
    ],
  });
}

const secret = 'xoxb-123456789012-abcdefghijklmnop';

/** 80 evidence items with huge excerpts, 14 hypotheses, 30 gaps, hostile text: must be truncated, never rejected. */
export function hugeReport(): Report {
  const base = skewReport();
  const line = (i: number) =>
    `26/10/02 03:4${i % 10}:00 WARN TaskSetManager: Lost task ${i}.0 <!channel> & ${'x'.repeat(180)}`;
  const excerpt = Array.from({ length: 120 }, (_, i) => line(i)).join('\n');
  const evidence = Array.from({ length: 80 }, (_, i) => ({
    id: `E${i + 1}`,
    source: i % 2 ? 'spark.executor_log' : 'spark.stage',
    title: `Item ${i + 1} ${'very long title '.repeat(30)}`,
    excerpt: i === 0 ? `token=${secret}\n\`\`\`\nbreak out\n\`\`\`\n${excerpt}` : excerpt,
    ref: `/api/v1/applications/app-20261002031500-0117/1/stages/${i}/0?details=true&x=<y>`,
  }));
  const hypotheses = Array.from({ length: 14 }, (_, i) => ({
    ...base.hypotheses[1],
    title: `Hypothesis ${i + 1} ${'with a long title '.repeat(20)}`,
    likelihood: 50 - i,
    status: 'inconclusive' as const,
    evidenceFor: evidence.slice(i, i + 40).map((e) => e.id),
    evidenceAgainst: evidence.slice(40 + i, 79).map((e) => e.id),
    reasoning: 'Long reasoning. '.repeat(200),
  }));
  return Report.parse({
    ...base,
    id: 'inc_huge80',
    evidence,
    hypotheses,
    rootCause: {
      ...base.rootCause,
      culprit: { kind: 'stage', id: `5 ${'&<>'.repeat(200)}` },
      summary: `Summary ${'long '.repeat(2000)}`,
      evidence: evidence.slice(70, 80).map((e) => e.id),
    },
    gaps: Array.from({ length: 30 }, (_, i) => `Gap ${i + 1}: ${'unreachable '.repeat(40)}`),
  });
}

export const PLANTED_SECRET = secret;
