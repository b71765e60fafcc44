/** Variants that change what happened (the failure signature), not only names and numbers. */
import { dropLines, eachObject, insertBefore, mapStrings, reviveExecutors, stderrOf } from './edit.ts';
import { appPrefix, editJson, getJson, type Json, replaceEverywhere, routeFile } from './io.ts';
import {
  dropRoutes,
  renameHosts,
  scaleKeys,
  scaleLogSizes,
  scaleVolumes,
  setProps,
  shiftStages,
} from './ops.ts';
import type { Variant } from './renamed.ts';
import { restyle } from './restyle.ts';
import { rederiveStageAttempt } from './stage.ts';

const DISK_FULL = [
  'java.io.IOException: No space left on device',
  '\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)',
  '\tat java.base/java.io.FileOutputStream.write(FileOutputStream.java:349)',
  '\tat org.apache.spark.storage.TimeTrackingOutputStream.write(TimeTrackingOutputStream.java:59)',
  '\tat java.base/java.io.BufferedOutputStream.flushBuffer(BufferedOutputStream.java:81)',
  '\tat net.jpountz.lz4.LZ4BlockOutputStream.flushBufferedData(LZ4BlockOutputStream.java:225)',
  '\tat org.apache.spark.storage.DiskBlockObjectWriter.write(DiskBlockObjectWriter.scala:312)',
  '\tat org.apache.spark.util.collection.unsafe.sort.UnsafeSorterSpillWriter.write(UnsafeSorterSpillWriter.java:136)',
  '\tat org.apache.spark.util.collection.unsafe.sort.UnsafeExternalSorter.spill(UnsafeExternalSorter.java:238)',
  '\tat org.apache.spark.sql.execution.joins.SortMergeJoinScanner.bufferMatchingRows(SortMergeJoinExec.scala:1130)',
  '\tat org.apache.spark.executor.Executor$TaskRunner.run(Executor.scala:623)',
  '\t... 3 more',
].join('\n');

const NO_SUCH_METHOD = [
  "java.lang.NoSuchMethodError: 'scala.collection.immutable.ArraySeq scala.runtime.ScalaRunTime$.wrapRefArray(java.lang.Object[])'",
  '\tat com.acme.geo.udf.H3Cell.call(H3Cell.scala:27)',
  '\tat com.acme.geo.udf.H3Cell.call(H3Cell.scala:12)',
  '\tat org.apache.spark.sql.UDFRegistration.$anonfun$register$354(UDFRegistration.scala:780)',
  '\tat org.apache.spark.sql.catalyst.expressions.GeneratedClass$GeneratedIteratorForCodegenStage1.processNext(Unknown Source)',
  '\tat org.apache.spark.sql.execution.BufferedRowIterator.hasNext(BufferedRowIterator.java:43)',
  '\tat org.apache.spark.scheduler.ResultTask.runTask(ResultTask.scala:93)',
  '\tat org.apache.spark.executor.Executor$TaskRunner.run(Executor.scala:623)',
  '\t... 3 more',
].join('\n');

const PY_MODULE =
  /org\.apache\.spark\.api\.python\.PythonException: Traceback[\s\S]*?ModuleNotFoundError: No module named 'h3'\n\n(?:\tat [^\n]*\n?)*(?:\t\.\.\. \d+ more\n?)?/g;
const OOM_STACK = /java\.lang\.OutOfMemoryError: Java heap space(?:\n\tat [^\n]*)*(?:\n\t\.\.\. \d+ more)?/g;

export const structuralVariants: Variant[] = [
  {
    name: 'spark-v-skew-disk-full',
    source: 'spark-skew-hot-customer-oom',
    transformation:
      'app id renamed; the hot partition (40x median shuffle read) no longer OOMs: each of its 4 attempts fails with ' +
      'java.io.IOException: No space left on device while spilling the sort-merge-join buffer; its executors survive ' +
      '(no removeReason, listed as active), OOM lines removed from logs and failure texts.',
    why:
      'The failing task is the one hot partition and only it fails; the disk fills because it spills ~15 GiB alone. ' +
      'The fix is the skewed join key, not disk or heap: data_skew on the stage.',
    debatable:
      'A reviewer could argue for "unknown": the taxonomy has no disk-space category, and data_skew relies on the ' +
      'failing-task-is-the-big-one signal without an OOM. We think skew is what an on-call engineer would name.',
    apply: (s) => {
      replaceEverywhere(s, [['app-20261120021500-0042', 'app-20261204031107-0108']]);
      for (const e of ['2', '3', '5', '6']) {
        const f = stderrOf(s, e);
        s.files.set(
          f,
          (s.files.get(f) ?? '').replace(
            /\n[^\n]*SparkUncaughtExceptionHandler[^\n]*\n[^\n]*OutOfMemoryError[^\n]*/g,
            '',
          ),
        );
        dropLines(s, f, /MemoryStore cleared|BlockManager stopped|Shutdown hook/);
        const at = /^(\S+ \S+) ERROR Executor: Exception in task/m.exec(s.files.get(f) ?? '')?.[1] ?? '';
        insertBefore(s, f, /ERROR Executor: Exception in task/, [
          `${at} ERROR DiskBlockObjectWriter: Uncaught exception while reverting partial writes to file /var/lib/spark/local/blockmgr-5c1d/2e/temp_local_8f0e1a`,
        ]);
      }
      mapStrings(s, (t) => t.replace(OOM_STACK, DISK_FULL));
      reviveExecutors(s, ['2', '3', '5', '6']);
    },
  },
  {
    name: 'spark-v-fetch-with-big-partition',
    source: 'spark-fetch-failed-lost-nodes',
    transformation:
      'YARN ids renamed (cluster timestamp and app number), app renamed (daily_ledger_rollup -> settlement_netting), ' +
      'hosts renamed, stage ids +1, volumes x2; then in every attempt of the reduce stage the successful copies of partition 9 now read 8x their shuffle ' +
      'bytes/records and run 5x longer (stage totals, executorSummary, taskSummary quantiles over SUCCESS tasks and ' +
      'taskList re-derived; executor totals adjusted). Failures are unchanged: FetchFailed on lost nodes on other, even partitions.',
    why:
      'A big partition that succeeds is not the failure: the stage died of FetchFailed after nodes were lost, on evenly ' +
      'sized tasks. shuffle_fetch_failure on the reduce stage (3 after the shift); data_skew is the herring.',
    apply: (s) => {
      replaceEverywhere(s, [
        ['1763500000000_0121', '1774400000777_0031'],
        ['daily_ledger_rollup', 'settlement_netting'],
        ['DailyLedgerRollup', 'SettlementNetting'],
      ]);
      renameHosts(s, '10.77');
      shiftStages(s, 1);
      scaleVolumes(s, 2);
      const prefix = `${appPrefix(s)}/stages/3/`;
      const atts = s.manifest.routes
        .filter((r) => r.path.startsWith(prefix) && /\/stages\/3\/\d+$/.test(r.path) && !r.query)
        .map((r) => +(r.path.split('/').pop() ?? 0));
      for (const att of atts) inflatePartition(s, `${prefix}${att}`, 9, 8, 5);
      for (const att of atts) rederiveStageAttempt(s, 3, att);
    },
  },
  {
    name: 'spark-v-healthy-scary-k8s',
    source: 'spark-healthy-nightly',
    transformation:
      'standalone -> Kubernetes client mode (spark-<32 hex> id, pod log URLs); the executor removed mid-run now exits ' +
      'with 137 (SIGKILL, possible container OOM) and its 4 tasks are retried and succeed; the killed speculative copy ' +
      'becomes a FAILED speculative attempt (TaskCommitDenied); every spill is 25x bigger (sums/quantiles exact).',
    why: 'Every job SUCCEEDED; the noise is recovered. Nothing to diagnose: abstain.',
    apply: (s) => {
      mapStrings(s, (t) => t.replaceAll('Command exited with code 143', 'Command exited with code 137'));
      restyle(s, {
        style: 'k8s',
        appId: 'spark-8c41d0e2b7a94f6e9d3c15a0f2e7b864',
        pod: 'inventory-snapshot-5b1e9c0d7a3f42e8',
      });
      speculativeFails(s);
      scaleKeys(
        s,
        25,
        (k) => /Spilled$/.test(k),
        () => true,
      );
      for (const [f, t] of s.files) if (f.endsWith('.log')) s.files.set(f, scaleLogSizes(t, 25, /spilling/));
      s.manifest.expect.alternatives.push('spark.memory_overhead_exceeded');
    },
  },
  {
    name: 'spark-v-undecidable-no-detail',
    source: 'spark-pyspark-module-not-found',
    transformation:
      'YARN ids and app renamed; every stage failureReason and task errorMessage removed; executor log routes removed ' +
      '(aggregated logs expired: 404); client mode, so no driver log.',
    why: 'The job failed but nothing says why (tasks fail fast with no message, no logs): abstain and say what would decide.',
    debatable:
      'The History Server always records errorMessage for failed tasks; stripping it models a pruned/partial event log.',
    apply: (s) => {
      replaceEverywhere(s, [
        ['1763500000000_0131', '1775500000042_0907'],
        ['geo_enrich_events', 'partner_feed_merge'],
      ]);
      eachObject(s, (o) => {
        delete o.failureReason;
        delete o.errorMessage;
      });
      dropRoutes(s, /^\/logs\//);
      s.manifest.expect = {
        category: null,
        alternatives: ['spark.dependency_error', 'spark.schema_mismatch', 'spark.executor_oom'],
      };
      s.manifest.tags.push('undecidable');
    },
  },
  {
    name: 'spark-v-jvm-nosuchmethod',
    source: 'spark-pyspark-module-not-found',
    transformation:
      'YARN ids and app renamed; the Python ModuleNotFoundError becomes a JVM NoSuchMethodError from a UDF jar built ' +
      'for Scala 2.13 (spark.jars added), in failureReason, task errorMessages and executor logs.',
    why: 'Every task of the stage fails at once with a linkage error from the shipped jar: dependency_error; the fix is the app packaging.',
    apply: (s) => {
      replaceEverywhere(s, [
        ['1763500000000_0131', '1776600000001_0212'],
        ['geo_enrich_events', 'merchant_geo_join'],
      ]);
      mapStrings(s, (t) => t.replace(PY_MODULE, `${NO_SUCH_METHOD}\n`));
      setProps(s, { 'spark.jars': 's3a://acme-artifacts/jars/geo-udfs-assembly_2.13-2.1.0.jar' });
      s.manifest.expect.culprit = { kind: 'app', id: 'application_1776600000001_0212' };
    },
  },
];

function inflatePartition(
  s: Parameters<Variant['apply']>[0],
  path: string,
  index: number,
  k: number,
  d: number,
): void {
  const files = [routeFile(s, path), routeFile(s, path, { taskStatus: 'FAILED' })].filter(
    (f): f is string => !!f,
  );
  const deltas = new Map<string, { read: number; dur: number }>();
  for (const f of files) {
    editJson(s, f, (st: Json) => {
      for (const t of Object.values<Json>(st.tasks ?? {})) {
        if (t.index !== index || t.status !== 'SUCCESS') continue;
        const sr = t.taskMetrics.shuffleReadMetrics;
        const before = sr.remoteBytesRead + sr.localBytesRead;
        for (const key of ['remoteBytesRead', 'localBytesRead', 'recordsRead']) sr[key] *= k;
        const dd = t.duration * (d - 1);
        t.duration += dd;
        t.taskMetrics.executorRunTime += dd;
        if (f === files[0]) deltas.set(t.executorId, { read: before * (k - 1), dur: dd });
      }
    });
  }
  for (const f of ['http/allexecutors.json', 'http/executors.json']) {
    editJson(s, f, (l: Json[]) => {
      for (const e of l) {
        const x = deltas.get(e.id);
        if (x) {
          e.totalShuffleRead += x.read;
          e.totalDuration += x.dur;
        }
      }
    });
  }
}

/** The killed speculative copy becomes a failed one (TaskCommitDenied); every count follows. */
function speculativeFails(s: Parameters<Variant['apply']>[0]): void {
  let exec = '';
  eachObject(s, (o) => {
    if (o.speculative === true && o.status === 'KILLED') {
      o.status = 'FAILED';
      o.errorMessage = `TaskCommitDenied (Driver denied task commit) for job: 1, partition: ${o.index}, attemptNumber: ${o.attempt}`;
      exec = o.executorId;
    }
  });
  eachObject(s, (o) => {
    if (o.killedTasksSummary?.['another attempt succeeded'] === 1) {
      o.killedTasksSummary = {};
      o.numKilledTasks -= 1;
      o.numFailedTasks += 1;
      const es = o.executorSummary?.[exec];
      if (es) {
        es.killedTasks -= 1;
        es.failedTasks += 1;
      }
    }
  });
  const failed = s.manifest.routes.find((r) => r.query?.taskStatus === 'FAILED');
  const full = failed && routeFile(s, failed.path);
  if (failed && full) {
    const spec = Object.entries<Json>(getJson(s, full).tasks).filter(
      ([, t]) => t.speculative && t.status === 'FAILED',
    );
    editJson(s, failed.file, (st: Json) => {
      for (const [id, t] of spec) st.tasks[id] = t;
    });
  }
  for (const f of ['http/allexecutors.json', 'http/executors.json']) {
    editJson(s, f, (l: Json[]) => {
      for (const e of l) if (e.id === exec) e.failedTasks += 1;
    });
  }
  for (const [f, t] of s.files) {
    if (f.endsWith('.log'))
      s.files.set(
        f,
        t.replace(
          /INFO Executor: Executor killed task ([\d.]+ in stage [\d.]+ \(TID \d+\)), reason: another attempt succeeded/g,
          'INFO Executor: Commit denied for task $1: Driver denied task commit',
        ),
      );
  }
}
