import type { Remediation, RootCause } from '../core/report.ts';
import { CATEGORY_INFO, type Category } from '../core/taxonomy.ts';

type Action = Remediation['action'];

/** What a good on-call engineer does next, per category: rerun transient faults, fix code, escalate data. */
const PLAYBOOK: Partial<Record<Category, { action: Action; prevention: string; monitoring: string }>> = {
  'spark.data_skew': {
    action: 'fix',
    prevention: 'Enable AQE skew-join handling and salt known hot keys (null/0/guest ids) before wide joins.',
    monitoring: 'Alert when a stage’s max task shuffle read exceeds 10× its median.',
  },
  'spark.executor_oom': {
    action: 'fix',
    prevention: 'Size partitions to the executor heap (≈128–256 MiB of shuffle per task per core).',
    monitoring: 'Track executor GC time share and peak JVM heap against spark.executor.memory.',
  },
  'spark.memory_overhead_exceeded': {
    action: 'fix',
    prevention: 'Budget off-heap and Python worker memory explicitly (memoryOverhead, pyspark.memory).',
    monitoring: 'Track container RSS vs limit (ProcessTree*RSSMemory) per executor.',
  },
  'spark.driver_oom': {
    action: 'fix',
    prevention: 'Never collect()/toPandas() whole tables; write results out from the executors.',
    monitoring: 'Alert on driver peak heap near spark.driver.memory and on result sizes near maxResultSize.',
  },
  'spark.shuffle_fetch_failure': {
    action: 'rerun',
    prevention:
      'On preemptible nodes, enable graceful decommissioning with shuffle migration or a remote shuffle service.',
    monitoring: 'Count executors lost per run and FetchFailed stage retries.',
  },
  'spark.schema_mismatch': {
    action: 'escalate',
    prevention: 'Add a schema contract/expectation on the input and version upstream column changes.',
    monitoring: 'Validate the input schema before the job starts (fail fast with the diff).',
  },
  'spark.missing_input': {
    action: 'escalate',
    prevention: 'Gate the job on its input with a sensor instead of a fixed schedule.',
    monitoring: 'Alert on late or missing upstream partitions before this job runs.',
  },
  'spark.dependency_error': {
    action: 'fix',
    prevention: 'Pin and ship dependencies with the application (archives, image, --packages).',
    monitoring: 'Smoke-test the packaged environment in CI before deploying the job.',
  },
  'airflow.task_timeout': {
    action: 'fix',
    prevention:
      'Alert when a task’s duration passes 1.5× its trailing median, before execution_timeout kills it.',
    monitoring: 'Task duration vs execution_timeout per run.',
  },
  'airflow.sensor_timeout': {
    action: 'escalate',
    prevention: 'Add an SLA/freshness check on the awaited data at its producer, not only a sensor here.',
    monitoring: 'Arrival time of the awaited file/partition vs the sensor’s timeout.',
  },
  'airflow.oom_killed': {
    action: 'fix',
    prevention:
      'Process the data in bounded batches, or give the task a worker/pod with a memory request sized to it.',
    monitoring: 'Peak RSS of the task process vs the worker or pod memory limit.',
  },
  'airflow.zombie_task': {
    action: 'rerun',
    prevention: 'Drain workers before deploys and restarts; keep task heartbeats healthy.',
    monitoring: 'Zombie/heartbeat-lost counts per worker.',
  },
  'airflow.dag_import_error': {
    action: 'fix',
    prevention: 'Import every DAG file in CI (DagBag with include_examples=False, assert no import errors).',
    monitoring: 'Alert on /importErrors being non-empty after each deploy.',
  },
  'airflow.connection_error': {
    action: 'rerun',
    prevention: 'Give calls to external systems retries with exponential backoff and timeouts.',
    monitoring: 'Error rate and latency of the external API per run.',
  },
  'airflow.auth_error': {
    action: 'fix',
    prevention: 'Rotate credentials before they expire and test them in a daily connection check.',
    monitoring: 'Credential expiry dates and 401/403 counts per connection.',
  },
  'airflow.missing_connection': {
    action: 'fix',
    prevention: 'Check in CI that every conn_id / Variable a DAG uses is defined in each environment.',
    monitoring: 'Alert on connection/variable lookups that fail.',
  },
  'airflow.schema_drift': {
    action: 'fix',
    prevention: 'Validate the source payload against an explicit schema and fail with the diff.',
    monitoring: 'Schema changes of the source (new/renamed/removed fields) per run.',
  },
  'dbt.compilation_error': {
    action: 'fix',
    prevention: 'Run `dbt compile` (or `dbt build --select state:modified+`) in CI on every change.',
    monitoring: 'Compile failures per deploy.',
  },
  'dbt.missing_column': {
    action: 'fix',
    prevention:
      'Add a model contract or column tests on the upstream relation so renames fail where they happen.',
    monitoring: 'Schema changes of upstream sources between runs.',
  },
  'dbt.type_mismatch': {
    action: 'fix',
    prevention: 'Cast explicitly at the staging layer and enforce types with a contract.',
    monitoring: 'Type changes of upstream columns between runs.',
  },
  'dbt.test_failure': {
    action: 'fix',
    prevention:
      'Test the producing model (and its source) for the same property, closer to where the data enters.',
    monitoring: 'Failing-row counts of this test over time.',
  },
  'dbt.source_stale': {
    action: 'escalate',
    prevention: 'Run source freshness before the models that read it, and gate them on it.',
    monitoring: 'loaded_at lag of the source vs its warn/error thresholds.',
  },
  'dbt.permission_denied': {
    action: 'fix',
    prevention: 'Manage grants as code and check the run role’s privileges in CI.',
    monitoring: 'Permission errors per role.',
  },
  'silent.empty_output': {
    action: 'fix',
    prevention: 'Add a row-count test (e.g. dbt_utils.expression_is_true / at least one row) on the model.',
    monitoring: 'Rows written per run vs the trailing median.',
  },
  'silent.volume_drop': {
    action: 'escalate',
    prevention: 'Add a volume anomaly test against the trailing runs.',
    monitoring: 'Rows written per run vs the trailing median (alert below 20 %).',
  },
};

const ACTION_WHY: Record<Action, string> = {
  rerun: 'Rerun: the cause is transient, so the same inputs should pass now.',
  fix: 'Fix, do not rerun: the same inputs will fail the same way.',
  escalate: 'Escalate to the owner of the upstream data or system: nothing in this run can fix it.',
};

const DEFAULT = {
  action: 'escalate' as Action,
  prevention: 'Add a check that would have caught this earlier.',
  monitoring: 'Alert on the signal named in the evidence.',
};

/** Remediation for a root cause, or for an abstention (`null`). */
export function remediationFor(rootCause: RootCause | null, notes: string[], failed: boolean): Remediation {
  if (!failed)
    return {
      action: 'escalate',
      summary: 'Nothing to fix: the run completed successfully and no failure signal was found.',
      fix: null,
      prevention: 'None needed.',
      monitoring: 'If this alert fired anyway, check the alert rule.',
    };
  if (!rootCause)
    return {
      action: 'escalate',
      summary: `Heal could not decide the root cause. ${notes.join(' ')}`.trim(),
      fix: null,
      prevention: 'Collect the missing evidence named above, then rerun the investigation.',
      monitoring: DEFAULT.monitoring,
    };
  const play = PLAYBOOK[rootCause.category] ?? DEFAULT;
  return {
    action: play.action,
    summary: `${ACTION_WHY[play.action]} ${CATEGORY_INFO[rootCause.category].fix}`,
    fix: null,
    prevention: play.prevention,
    monitoring: play.monitoring,
  };
}
