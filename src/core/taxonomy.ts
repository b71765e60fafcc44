import { z } from 'zod';

/** Root-cause category ids (TAXONOMY.md). A public contract: add, never rename. */
export const CATEGORIES = [
  'spark.data_skew',
  'spark.executor_oom',
  'spark.memory_overhead_exceeded',
  'spark.driver_oom',
  'spark.shuffle_fetch_failure',
  'spark.schema_mismatch',
  'spark.missing_input',
  'spark.dependency_error',
  'airflow.upstream_failure',
  'airflow.task_timeout',
  'airflow.sensor_timeout',
  'airflow.oom_killed',
  'airflow.zombie_task',
  'airflow.dag_import_error',
  'airflow.connection_error',
  'airflow.auth_error',
  'airflow.missing_connection',
  'airflow.schema_drift',
  'dbt.compilation_error',
  'dbt.missing_column',
  'dbt.type_mismatch',
  'dbt.test_failure',
  'dbt.source_stale',
  'dbt.permission_denied',
  'dbt.upstream_failure',
  'silent.empty_output',
  'silent.volume_drop',
  'unknown',
] as const;

export const Category = z.enum(CATEGORIES);
export type Category = z.infer<typeof Category>;

/** Categories that may only be hypotheses, never a root cause (the cause is the upstream's own). */
export const HYPOTHESIS_ONLY: ReadonlySet<Category> = new Set([
  'airflow.upstream_failure',
  'dbt.upstream_failure',
]);

export const CULPRIT_KINDS = [
  'stage',
  'job',
  'executor',
  'driver',
  'input',
  'app',
  'task',
  'dag',
  'pool',
  'connection',
  'model',
  'test',
  'source',
  'seed',
  'snapshot',
  'macro',
  'table',
] as const;
export const CulpritKind = z.enum(CULPRIT_KINDS);
export type CulpritKind = z.infer<typeof CulpritKind>;

/** Human titles and fix shapes, used by renderers and remediation text. */
export const CATEGORY_INFO: Record<Category, { title: string; fix: string }> = {
  'spark.data_skew': {
    title: 'Data skew: a few tasks carry most of a stage’s data',
    fix: 'Enable AQE skew join (spark.sql.adaptive.skewJoin.enabled=true), salt the hot key, or repartition on another key.',
  },
  'spark.executor_oom': {
    title: 'Executors ran out of heap on evenly sized work',
    fix: 'Raise spark.executor.memory, or use more, smaller partitions (spark.sql.shuffle.partitions).',
  },
  'spark.memory_overhead_exceeded': {
    title: 'Containers killed for exceeding memory overhead (off-heap), not heap',
    fix: 'Raise spark.executor.memoryOverhead (or spark.executor.pyspark.memory for Python workers).',
  },
  'spark.driver_oom': {
    title: 'The driver ran out of memory (collect / maxResultSize)',
    fix: 'Do not collect large results to the driver: write them out or iterate; raise spark.driver.memory / maxResultSize only as a stopgap.',
  },
  'spark.shuffle_fetch_failure': {
    title: 'Shuffle blocks lost (node loss / preemption)',
    fix: 'Transient: rerun. Use graceful decommissioning or an external/remote shuffle service on preemptible nodes.',
  },
  'spark.schema_mismatch': {
    title: 'The input no longer has the columns/types the job expects',
    fix: 'Fix the upstream contract or adapt the job; add a schema expectation on the input.',
  },
  'spark.missing_input': {
    title: 'An input path, partition or table is absent',
    fix: 'Trace the upstream producer (failed or late); add a sensor on the input.',
  },
  'spark.dependency_error': {
    title: 'Code or library missing or incompatible',
    fix: 'Ship or pin the dependency with the application (archives, --packages, image).',
  },
  'airflow.upstream_failure': {
    title: 'Casualty of an upstream task failure',
    fix: 'Investigate the upstream task.',
  },
  'airflow.task_timeout': {
    title: 'execution_timeout exceeded',
    fix: 'Find what got slower; raise the timeout.',
  },
  'airflow.sensor_timeout': {
    title: 'Awaited data never arrived',
    fix: 'Trace the producer of the awaited data.',
  },
  'airflow.oom_killed': { title: 'Task process killed for memory', fix: 'More memory or smaller batches.' },
  'airflow.zombie_task': { title: 'Task lost its heartbeat', fix: 'Transient: rerun.' },
  'airflow.dag_import_error': { title: 'The DAG file does not parse', fix: 'Fix the DAG code.' },
  'airflow.connection_error': { title: 'Transient network failure', fix: 'Rerun; add retries with backoff.' },
  'airflow.auth_error': {
    title: 'Credentials rejected or expired',
    fix: 'Rotate or fix the secret; a rerun will fail again.',
  },
  'airflow.missing_connection': { title: 'Connection or variable not defined', fix: 'Define it.' },
  'airflow.schema_drift': {
    title: 'Source data or API changed shape',
    fix: 'Adapt the parser; add a schema expectation.',
  },
  'dbt.compilation_error': { title: 'The project does not compile', fix: 'Fix the reference or macro.' },
  'dbt.missing_column': {
    title: 'SQL references a missing column',
    fix: 'Fix the model or the upstream contract.',
  },
  'dbt.type_mismatch': {
    title: 'A value cannot be cast or compared',
    fix: 'Cast explicitly; add a type expectation.',
  },
  'dbt.test_failure': { title: 'A data test fails', fix: 'Fix the data or the producing model.' },
  'dbt.source_stale': { title: 'A source is past its freshness threshold', fix: 'Trace the loader.' },
  'dbt.permission_denied': { title: 'The warehouse role lacks a grant', fix: 'Grant, then rerun.' },
  'dbt.upstream_failure': {
    title: 'Skipped because an upstream node failed',
    fix: 'Investigate the upstream node.',
  },
  'silent.empty_output': { title: 'Succeeded but produced no rows', fix: 'Trace the empty input upstream.' },
  'silent.volume_drop': {
    title: 'Output volume far outside history',
    fix: 'Trace the input volume upstream.',
  },
  unknown: { title: 'The evidence does not decide', fix: 'Collect the evidence named in the report.' },
};
