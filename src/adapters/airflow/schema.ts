import { z } from 'zod';

/*
 * zod schemas for the Airflow REST responses Heal reads, from the 2.10 `/api/v1` and 3.2 `/api/v2`
 * OpenAPI specs (corpus/airflow/openapi). Fields differ between versions (execution_date vs
 * logical_date, dag_versions); everything not needed by both is optional and nullable.
 */
const str = z.string();
const optStr = z.string().nullish();
const optNum = z.number().nullish();

export const Version = z.object({ version: str, git_version: optStr });
export type Version = z.infer<typeof Version>;

export const Token = z.object({ access_token: z.string().min(1) });

/** A Python timedelta as the API serialises it. */
export const TimeDelta = z.object({
  __type: optStr,
  days: z.number().default(0),
  seconds: z.number().default(0),
  microseconds: z.number().default(0),
});
export type TimeDelta = z.infer<typeof TimeDelta>;

export const Dag = z.object({
  dag_id: str,
  fileloc: optStr,
  relative_fileloc: optStr,
  bundle_name: optStr,
  bundle_version: optStr,
  has_import_errors: z.boolean().nullish(),
  is_paused: z.boolean().nullish(),
  is_active: z.boolean().nullish(),
  last_parsed_time: optStr,
});
export type Dag = z.infer<typeof Dag>;

export const Task = z.object({
  task_id: str,
  downstream_task_ids: z.array(str).default([]),
  trigger_rule: optStr,
  execution_timeout: TimeDelta.nullish(),
  retries: optNum,
  operator_name: optStr,
  class_ref: z.object({ class_name: optStr, module_path: optStr }).nullish(),
});
export type Task = z.infer<typeof Task>;
export const TaskCollection = z.object({ tasks: z.array(Task) });

export const DagVersion = z.object({
  id: optStr,
  version_number: optNum,
  bundle_name: optStr,
  bundle_version: optStr,
});

export const DagRun = z.object({
  dag_run_id: str,
  dag_id: str,
  logical_date: optStr,
  execution_date: optStr,
  start_date: optStr,
  end_date: optStr,
  state: optStr,
  run_type: optStr,
  duration: optNum,
  data_interval_start: optStr,
  data_interval_end: optStr,
  bundle_version: optStr,
  dag_versions: z.array(DagVersion).nullish(),
});
export type DagRun = z.infer<typeof DagRun>;
export const DagRunCollection = z.object({ dag_runs: z.array(DagRun), total_entries: optNum });

export const TaskInstance = z.object({
  task_id: str,
  dag_run_id: optStr,
  map_index: optNum,
  state: optStr,
  try_number: z.number().default(0),
  max_tries: optNum,
  duration: optNum,
  start_date: optStr,
  end_date: optStr,
  hostname: optStr,
  operator: optStr,
  dag_version: DagVersion.nullish(),
});
export type TaskInstance = z.infer<typeof TaskInstance>;
export const TaskInstanceCollection = z.object({
  task_instances: z.array(TaskInstance),
  total_entries: optNum,
});

export const ImportErrorItem = z.object({
  import_error_id: optNum,
  filename: optStr,
  bundle_name: optStr,
  stack_trace: optStr,
  timestamp: optStr,
});
export type ImportErrorItem = z.infer<typeof ImportErrorItem>;
export const ImportErrorCollection = z.object({
  import_errors: z.array(ImportErrorItem),
  total_entries: optNum,
});

/** One Airflow 3 structured log message; errors carry `error_detail`. */
export const LogMessage = z
  .object({
    timestamp: optStr,
    level: optStr,
    event: z.unknown(),
    logger: optStr,
    error_detail: z
      .array(
        z.object({
          exc_type: optStr,
          exc_value: optStr,
          frames: z.array(z.object({ filename: optStr, lineno: optNum, name: optStr })).nullish(),
        }),
      )
      .nullish(),
  })
  .loose();
export type LogMessage = z.infer<typeof LogMessage>;

/** `GET …/logs/<n>` as JSON: Airflow 2 gives text content, Airflow 3 a list of messages. */
export const LogContent = z.object({
  content: z.union([z.string(), z.array(z.unknown())]),
  continuation_token: optStr,
});

const Line = z.object({ n: z.number(), text: str });

/** The filtered log of one try of one task. */
export const TryLog = z.object({
  taskId: str,
  tryNumber: z.number(),
  /** Relevant lines with context, redacted. */
  lines: z.array(Line),
  bytesRead: z.number(),
  truncated: z.boolean(),
  /** API path of the log. */
  ref: str,
  /** True for a log of a previous (baseline) run. */
  baseline: z.boolean().default(false),
  /** Map index of a mapped task instance's log (absent: unmapped). */
  mapIndex: optNum,
});
export type TryLog = z.infer<typeof TryLog>;

/** One try of a task instance (from `/tries`, or the task instance itself when that is missing). */
export const TryInfo = z.object({
  tryNumber: z.number(),
  state: optStr,
  duration: optNum,
  startDate: optStr,
  endDate: optStr,
  hostname: optStr,
});
export type TryInfo = z.infer<typeof TryInfo>;

/** A previous run of the DAG, for baselines. */
export const HistoryRun = z.object({
  runId: str,
  state: optStr,
  logicalDate: optStr,
  tasks: z.array(z.object({ taskId: str, state: optStr, duration: optNum, tryNumber: z.number() })),
});
export type HistoryRun = z.infer<typeof HistoryRun>;

/**
 * Everything collected for one pinned DAG run: the contract between collection and the rules.
 * Parts that could not be fetched are empty and named in the collection's gaps.
 */
export const AirflowSnapshot = z.object({
  /** Major version spoken by the server (2 → /api/v1, 3 → /api/v2). */
  major: z.number(),
  airflowVersion: optStr,
  apiRoot: str,
  dagId: str,
  runId: str,
  /** The task named in the alert / target, if any. */
  targetTaskId: optStr,
  dag: Dag.nullish(),
  tasks: z.array(Task).default([]),
  run: DagRun.nullish(),
  taskInstances: z.array(TaskInstance).default([]),
  /**
   * Mapped failed tasks: task id → the failed map indexes, the one whose tries and logs were read first.
   * Unmapped tasks are absent.
   */
  failedMapIndexes: z.record(str, z.array(z.number())).optional(),
  tries: z.record(str, z.array(TryInfo)).default({}),
  logs: z.array(TryLog).default([]),
  history: z.array(HistoryRun).default([]),
  /** Import errors whose file is this DAG's file. */
  importErrors: z.array(ImportErrorItem).default([]),
  /** How many import errors concern other files (noise). */
  otherImportErrors: z.number().default(0),
});
export type AirflowSnapshot = z.infer<typeof AirflowSnapshot>;
