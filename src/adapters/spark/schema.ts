import { z } from 'zod';

/*
 * Spark History Server REST (/api/v1) shapes, parsed at the boundary. Loose objects: we validate
 * the fields we use and keep the rest, because Spark adds fields between versions. Field names follow
 * apache/spark's HistoryServerExpectations (see ../shared/corpus/spark).
 */

const num = z.number();
const optNum = num.optional();
const str = z.string();

export const AppAttempt = z.looseObject({
  attemptId: str.optional(),
  startTime: str.optional(),
  endTime: str.optional(),
  duration: optNum,
  sparkUser: str.optional(),
  completed: z.boolean().optional(),
  appSparkVersion: str.optional(),
  exitCode: optNum,
});
export type AppAttempt = z.infer<typeof AppAttempt>;

export const Application = z.looseObject({
  id: str,
  name: str.optional().default(''),
  attempts: z.array(AppAttempt).default([]),
});
export type Application = z.infer<typeof Application>;

export const Job = z.looseObject({
  jobId: num,
  name: str.optional().default(''),
  description: str.optional(),
  submissionTime: str.optional(),
  completionTime: str.optional(),
  stageIds: z.array(num).default([]),
  status: str,
  numTasks: optNum,
  numFailedTasks: optNum,
  numKilledTasks: optNum,
  numFailedStages: optNum,
  numSkippedStages: optNum,
});
export type Job = z.infer<typeof Job>;

export const TaskMetrics = z.looseObject({
  executorRunTime: optNum,
  jvmGcTime: optNum,
  peakExecutionMemory: optNum,
  memoryBytesSpilled: optNum,
  diskBytesSpilled: optNum,
  resultSize: optNum,
  inputMetrics: z.looseObject({ bytesRead: optNum, recordsRead: optNum }).optional(),
  outputMetrics: z.looseObject({ bytesWritten: optNum, recordsWritten: optNum }).optional(),
  shuffleReadMetrics: z
    .looseObject({
      remoteBytesRead: optNum,
      localBytesRead: optNum,
      recordsRead: optNum,
      fetchWaitTime: optNum,
    })
    .optional(),
  shuffleWriteMetrics: z.looseObject({ bytesWritten: optNum, recordsWritten: optNum }).optional(),
});
export type TaskMetrics = z.infer<typeof TaskMetrics>;

export const Task = z.looseObject({
  taskId: num,
  index: num,
  attempt: num,
  partitionId: optNum,
  launchTime: str.optional(),
  duration: optNum,
  executorId: str,
  host: str.optional(),
  status: str,
  speculative: z.boolean().optional(),
  errorMessage: str.optional(),
  taskMetrics: TaskMetrics.optional(),
  executorLogs: z.record(str, str).optional(),
});
export type Task = z.infer<typeof Task>;

/** A stage attempt (`/stages`, `/stages/<id>`, `/stages/<id>/<attempt>`); details carry `tasks`. */
export const StageAttempt = z.looseObject({
  status: str,
  stageId: num,
  attemptId: num,
  name: str.optional().default(''),
  details: str.optional(),
  numTasks: optNum,
  numCompleteTasks: optNum,
  numFailedTasks: optNum,
  numKilledTasks: optNum,
  submissionTime: str.optional(),
  completionTime: str.optional(),
  failureReason: str.optional(),
  executorRunTime: optNum,
  jvmGcTime: optNum,
  memoryBytesSpilled: optNum,
  diskBytesSpilled: optNum,
  inputBytes: optNum,
  shuffleReadBytes: optNum,
  shuffleWriteBytes: optNum,
  peakExecutionMemory: optNum,
  tasks: z.record(str, Task).optional(),
  executorSummary: z.record(str, z.looseObject({ failedTasks: optNum, succeededTasks: optNum })).optional(),
});
export type StageAttempt = z.infer<typeof StageAttempt>;

const quantileSeries = z.array(num);
/** `/stages/<id>/<attempt>/taskSummary`: metric arrays aligned with `quantiles` (SUCCESS tasks only). */
export const TaskSummary = z.looseObject({
  quantiles: z.array(num),
  duration: quantileSeries.optional(),
  executorRunTime: quantileSeries.optional(),
  jvmGcTime: quantileSeries.optional(),
  peakExecutionMemory: quantileSeries.optional(),
  memoryBytesSpilled: quantileSeries.optional(),
  diskBytesSpilled: quantileSeries.optional(),
  resultSize: quantileSeries.optional(),
  inputMetrics: z.looseObject({ bytesRead: quantileSeries.optional() }).optional(),
  shuffleReadMetrics: z
    .looseObject({ readBytes: quantileSeries.optional(), readRecords: quantileSeries.optional() })
    .optional(),
  shuffleWriteMetrics: z.looseObject({ writeBytes: quantileSeries.optional() }).optional(),
});
export type TaskSummary = z.infer<typeof TaskSummary>;

/** `/allexecutors` (dead ones carry `removeTime` / `removeReason`). */
export const Executor = z.looseObject({
  id: str,
  hostPort: str.optional(),
  isActive: z.boolean().optional(),
  totalCores: optNum,
  maxMemory: optNum,
  failedTasks: optNum,
  completedTasks: optNum,
  totalTasks: optNum,
  totalDuration: optNum,
  totalGCTime: optNum,
  totalShuffleRead: optNum,
  addTime: str.optional(),
  removeTime: str.optional(),
  removeReason: str.optional(),
  isExcluded: z.boolean().optional(),
  executorLogs: z.record(str, str).optional().default({}),
  peakMemoryMetrics: z.record(str, num).optional(),
});
export type Executor = z.infer<typeof Executor>;

export const Environment = z.looseObject({
  sparkProperties: z.array(z.tuple([str, str])).default([]),
});

/** Matching lines of one executor/driver log, kept with context while streaming. */
export const LogExcerpt = z.object({
  executorId: str,
  stream: str,
  url: str,
  /** `n` is the 1-based line number in the log. */
  lines: z.array(z.object({ n: num, text: str })),
  bytesRead: num,
  /** True when the log was longer than the byte budget and the rest was not read. */
  truncated: z.boolean(),
});
export type LogExcerpt = z.infer<typeof LogExcerpt>;

/** Core History Server reads the healthy verdict depends on. */
export const Unread = z.enum(['application', 'jobs', 'stages', 'executors']);
export type Unread = z.infer<typeof Unread>;

/** Key for a stage attempt: `"<stageId>.<attemptId>"`. */
export const stageKey = (stageId: number, attemptId: number) => `${stageId}.${attemptId}`;

/**
 * Everything collected for one Spark application attempt: the facts the rules read. Parts that could
 * not be fetched are absent (empty) and named in the collection's `gaps`.
 */
export const SparkSnapshot = z.object({
  appId: str,
  attemptId: str.optional(),
  /** API path prefix used, e.g. `/api/v1/applications/<id>/1`. */
  apiPrefix: str,
  app: Application.optional(),
  attempt: AppAttempt.optional(),
  jobs: z.array(Job).default([]),
  /** `/stages` list (all attempts, no tasks). */
  stages: z.array(StageAttempt).default([]),
  /** Stage attempt details (with `tasks` when Spark sent them), keyed by `stageKey`. */
  stageDetails: z.record(str, StageAttempt).default({}),
  /** FAILED task attempts per stage attempt (`?taskStatus=FAILED` or filtered from details). */
  failedTasks: z.record(str, z.array(Task)).default({}),
  /** Task summaries per stage attempt, as returned (read `quantiles`). */
  taskSummaries: z.record(str, TaskSummary).default({}),
  /** Top task attempts by duration per stage attempt (`taskList`). */
  topTasks: z.record(str, z.array(Task)).default({}),
  executors: z.array(Executor).default([]),
  sparkProperties: z.record(str, str).default({}),
  logs: z.array(LogExcerpt).default([]),
  /**
   * Core endpoints that could not be read (error, timeout, bad JSON). The rules never call a run with an
   * unread core endpoint healthy. Absent in snapshots built before this field existed: read as "all read".
   */
  unread: z.array(Unread).optional(),
});
export type SparkSnapshot = z.infer<typeof SparkSnapshot>;
