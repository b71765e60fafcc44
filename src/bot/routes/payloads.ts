import { z } from 'zod';
import { untrustedPathRefusal } from '../../core/local-paths.ts';
import { type Platform, parseTarget, parseTargetUrl, Target } from '../../core/target.ts';

/**
 * `POST /alerts/airflow`: what an Airflow `on_failure_callback` (or a notifier) posts, built from the task
 * instance context: `dag_id`, `run_id` (or `logical_date`), `task_id`, `try_number`, `log_url`, `exception`.
 * Unknown fields are ignored.
 */
export const AirflowAlert = z
  .object({
    dag_id: z.string().min(1).max(250),
    run_id: z.string().min(1).max(250).optional(),
    logical_date: z.string().min(1).max(64).optional(),
    task_id: z.string().min(1).max(250).optional(),
    try_number: z.coerce.number().int().min(0).optional(),
    log_url: z.string().max(2000).optional(),
    exception: z.string().optional(),
    state: z.string().max(40).optional(),
  })
  .refine((a) => a.run_id || a.logical_date, 'needs run_id (or logical_date)');
export type AirflowAlert = z.infer<typeof AirflowAlert>;

const id = z.union([z.string().min(1), z.number().int()]).transform(String);

/**
 * `POST /alerts/dbt-cloud`: a dbt Cloud job webhook (docs.getdbt.com/docs/deploy/webhooks): `eventId`,
 * `eventType` (`job.run.started|completed|errored`), `timestamp` (ISO 8601), `data.runId`, `data.runStatus`,
 * `data.runStatusCode` (10 success, 20 error, 30 cancelled).
 */
export const DbtCloudEvent = z.object({
  accountId: id,
  webhookId: z.string().optional(),
  eventId: z.string().min(1).max(200),
  timestamp: z.iso.datetime({ offset: true }),
  eventType: z.string().min(1),
  webhookName: z.string().optional(),
  data: z
    .object({
      jobId: id,
      jobName: z.string().optional(),
      runId: id,
      runStatus: z.string().optional(),
      runStatusCode: z.coerce.number().int().optional(),
      runStatusMessage: z.string().nullish(),
      environmentName: z.string().optional(),
      projectName: z.string().optional(),
    })
    .loose(),
});
export type DbtCloudEvent = z.infer<typeof DbtCloudEvent>;

/** Whether a dbt Cloud event reports a failed run (errored; completed with an error status). */
export function dbtEventFailed(e: DbtCloudEvent): boolean {
  if (e.eventType === 'job.run.errored') return true;
  if (e.eventType !== 'job.run.completed') return false;
  return e.data.runStatusCode === 20 || /^error/i.test(e.data.runStatus ?? '');
}

/**
 * `POST /alerts/generic`: `{platform, target, channel?, summary?, id?}`. `target` is `/heal` target text
 * without the platform word (`revenue_daily scheduled__… load`, `cloud 70403103`, an app id) or a run URL;
 * `channel` must be HEAL_WEBHOOK_CHANNEL or one of HEAL_ALERT_CHANNELS; `id` deduplicates retries.
 */
export const GenericAlert = z.object({
  platform: z.enum(['spark', 'airflow', 'dbt']),
  target: z.string().min(1).max(2000),
  channel: z
    .string()
    .regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id')
    .optional(),
  summary: z.string().max(2000).optional(),
  id: z.string().min(1).max(200).optional(),
});
export type GenericAlert = z.infer<typeof GenericAlert>;

export type ParsedTarget = { ok: true; target: Target } | { ok: false; error: string };

export function airflowTarget(a: AirflowAlert): ParsedTarget {
  const url = a.log_url && /^https?:\/\//i.test(a.log_url) ? { url: a.log_url } : {};
  const parsed = Target.safeParse({
    platform: 'airflow',
    dagId: a.dag_id,
    ...(a.run_id ? { runId: a.run_id } : { logicalDate: a.logical_date }),
    ...(a.task_id ? { taskId: a.task_id } : {}),
    ...url,
  });
  return parsed.success ? { ok: true, target: parsed.data } : { ok: false, error: parsed.error.message };
}

/**
 * The generic alert's target; its platform must agree with the text or URL, and a local dbt path must lie
 * under `dbtRoots` (HEAL_DBT_ROOTS).
 */
export function genericTarget(g: GenericAlert, dbtRoots: readonly string[] = []): ParsedTarget {
  const text = g.target.trim();
  const words = text.split(/\s+/);
  const parsed = /^https?:\/\//i.test(text)
    ? parseTargetUrl(text)
    : parseTarget(words[0]?.toLowerCase() === g.platform ? text : `${g.platform} ${text}`);
  if (!parsed.ok) return { ok: false, error: parsed.error.split('\n')[0] ?? 'target not understood' };
  const platform: Platform = parsed.target.platform;
  if (platform !== g.platform)
    return { ok: false, error: `platform is ${g.platform} but the target is a ${platform} target` };
  const refused = untrustedPathRefusal(parsed.target, dbtRoots);
  if (refused) return { ok: false, error: refused };
  return { ok: true, target: parsed.target };
}
