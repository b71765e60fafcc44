import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SparkSnapshot } from '../../../src/adapters/spark/schema.ts';
import { diagnose, sparkSnapshotFromFiles } from '../../support/sparkSnapshotFromFiles.ts';

/*
 * Variants of the public scenarios with other ids, wording, deploy modes and missing parts, to check
 * the rules key on signatures and relations, not on the recorded text.
 */

const SCENARIOS = join(import.meta.dirname, '..', '..', 'scenarios');
const load = (name: string, opts = {}) => sparkSnapshotFromFiles(join(SCENARIOS, name), opts);

/** Rewrites every string in the snapshot (ids, messages, logs) and re-parses it. */
function rewrite(snap: SparkSnapshot, edits: Array<[RegExp, string]>): SparkSnapshot {
  let text = JSON.stringify(snap);
  for (const [re, to] of edits) text = text.replace(re, to);
  return SparkSnapshot.parse(JSON.parse(text));
}

describe('variants', () => {
  it('skew with no executor logs, another app id and the 5-point quantiles: still skew on the failing stage', () => {
    const snap = rewrite(load('spark-skew-hot-customer-oom', { logs: false, summary: 'q5' }), [
      [/app-20261120021500-0042/g, 'app-20270301000000-0007'],
    ]);
    const d = diagnose(snap);
    expect(d.top?.category).toBe('spark.data_skew');
    expect(d.top?.culprit?.id).toBe('3');
    expect(d.byCat('spark.executor_oom')?.status).toBe('dismissed');
  });

  it('overhead on Kubernetes wording (exit 137, OOMKilled) instead of YARN', () => {
    const k8s =
      'The executor with id $1 exited with exit code 137(SIGKILL, possible container OOM).\\n\\t exit code: 137\\n\\t termination reason: OOMKilled';
    const snap = rewrite(load('spark-yarn-overhead-pandas-udf'), [
      [/Container killed by YARN for exceeding physical memory limits\.[^"\\]*/g, 'OOMKilled'],
      [/"removeReason":"OOMKilled"/g, `"removeReason":"${k8s}"`],
    ]);
    snap.executors = snap.executors.map((e) =>
      e.removeReason
        ? { ...e, removeReason: k8s.replace('$1', e.id).replaceAll('\\n', '\n').replaceAll('\\t', '\t') }
        : e,
    );
    const d = diagnose(snap);
    expect(d.top?.category).toBe('spark.memory_overhead_exceeded');
    expect(d.top?.culprit?.id).toBe('2');
  });

  it('fetch failures after spot preemption, without logs', () => {
    const snap = rewrite(load('spark-fetch-failed-lost-nodes', { logs: false }), [
      [/Container released on a \*lost\* node\./g, 'Container preempted by scheduler (spot interruption).'],
      [/Exit status: -100\./g, 'Exit status: -102.'],
    ]);
    const d = diagnose(snap);
    expect(d.top?.category).toBe('spark.shuffle_fetch_failure');
    expect(d.top?.deterministic).toBe(false);
  });

  it('heap OOM in client mode without any logs still reads the task errors and exit 52', () => {
    const d = diagnose(load('spark-heap-oom-even-partitions', { logs: false, summary: 'q3' }));
    expect(d.top?.category).toBe('spark.executor_oom');
    expect(d.top?.culprit?.id).toBe('2');
  });

  it('an unresolved column without a named relation falls back to the listed input path', () => {
    const snap = rewrite(load('spark-analysis-unresolved-column'), [
      [/(SubqueryAlias|Relation) spark_catalog\.raw\.payments/g, '$1 '],
    ]);
    const d = diagnose(snap);
    expect(d.top?.category).toBe('spark.schema_mismatch');
    expect(d.top?.culprit?.id).toBe('s3a://acme-lake/raw/payments');
  });
});
