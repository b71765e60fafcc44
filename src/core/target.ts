import { z } from 'zod';
import { redact } from './redact.ts';

/** Airflow's own id grammar (airflow.utils.helpers.KEY_REGEX) for dag and task ids. */
const AIRFLOW_KEY = /^[A-Za-z0-9_.-]{1,250}$/;
const NO_SECRET = 'looks like it carries a secret (a key, token or password); remove it and try again';

/** A user-supplied free-form field: never one that redaction would change (it would be echoed to Slack). */
const freeText = () =>
  z
    .string()
    .min(1)
    .refine((s) => redact(s) === s, NO_SECRET);
const airflowKey = () => freeText().regex(AIRFLOW_KEY, 'is not an Airflow id (letters, digits, _ . - only)');

/** A parsed `/heal` or CLI target (DESIGN.md §2). */
export const Target = z.discriminatedUnion('platform', [
  z.object({
    platform: z.literal('spark'),
    appId: freeText(),
    attempt: freeText().optional(),
    /** The UI / History Server URL the target was parsed from, kept for links. */
    url: freeText().optional(),
  }),
  z
    .object({
      platform: z.literal('airflow'),
      dagId: airflowKey(),
      /** The dag_run_id; an old-UI log URL only carries the logical date, which pinning resolves. */
      runId: freeText().optional(),
      logicalDate: freeText().optional(),
      taskId: airflowKey().optional(),
      url: freeText().optional(),
    })
    .refine((t) => t.runId || t.logicalDate, 'an Airflow target needs a dag_run_id or a logical date'),
  z.object({
    platform: z.literal('dbt'),
    path: freeText().optional(),
    cloudRunId: freeText().optional(),
    url: freeText().optional(),
  }),
]);
export type Target = z.infer<typeof Target>;
export type Platform = Target['platform'];

export const GRAMMAR = [
  'spark   <app-id>[/<attempt>]                e.g. spark application_1700000000000_0042',
  'airflow <dag_id> <dag_run_id> [<task_id>]   e.g. airflow revenue_daily scheduled__2026-11-20T02:00:00+00:00',
  'dbt     <path to a target/ dir>   or   dbt cloud <run_id>',
  '<url>   a Spark UI / History Server, Airflow UI or dbt Cloud run URL',
].join('\n');

export type TargetParse = { ok: true; target: Target } | { ok: false; error: string };

const SPARK_APP_ID =
  /^(application_\d+_\d+|app-\d{14}-\d{4,}|local-\d+|spark-[0-9a-f]{16,}|[A-Za-z0-9][\w.-]*)$/;
const SPARK_ID_IN_TEXT = /(application_\d+_\d+|app-\d{14}-\d{4,}|local-\d{10,}|spark-[0-9a-f]{32})/;
const ATTEMPT = /^[A-Za-z0-9_-]{1,16}$/;

/** The error names the word not understood, redacted: it is echoed back to Slack. */
function fail(message: string, example?: string): TargetParse {
  const ex = example ? `\nExample: \`${example}\`` : '';
  return { ok: false, error: `${redact(message)}${ex}\nUsage:\n${GRAMMAR}` };
}

/** The last word on every parsed target: the schema (ids, no secrets), its issue named on failure. */
function checked(candidate: unknown): TargetParse {
  const res = Target.safeParse(candidate);
  if (res.success) return { ok: true, target: res.data };
  const issue = res.error.issues[0];
  return fail(`\`${String(issue?.path.join('.') ?? 'target')}\` ${issue?.message ?? 'is invalid'}.`);
}

function parseSpark(args: string[]): TargetParse {
  const example = 'spark application_1700000000000_0042';
  const [spec, extra] = args;
  if (!spec) return fail('`spark` needs an application id.', example);
  if (extra !== undefined) return fail(`Unexpected \`${extra}\` after the Spark application id.`, example);
  const [appId, attempt, more] = spec.split('/');
  if (!appId || !SPARK_APP_ID.test(appId) || more !== undefined)
    return fail(`\`${spec}\` is not a Spark application id.`, example);
  if (attempt !== undefined && !ATTEMPT.test(attempt))
    return fail(`\`${attempt}\` is not a Spark attempt id.`, `${example}/1`);
  return { ok: true, target: { platform: 'spark', appId, ...(attempt ? { attempt } : {}) } };
}

function parseAirflow(args: string[]): TargetParse {
  const example = 'airflow revenue_daily scheduled__2026-11-20T02:00:00+00:00';
  const [dagId, runId, taskId, extra] = args;
  if (!dagId) return fail('`airflow` needs a dag_id and a dag_run_id.', example);
  if (!runId) return fail(`\`airflow ${dagId}\` needs a dag_run_id too.`, example);
  if (extra !== undefined) return fail(`Unexpected \`${extra}\` after the task id.`, example);
  return { ok: true, target: { platform: 'airflow', dagId, runId, ...(taskId ? { taskId } : {}) } };
}

function parseDbt(args: string[]): TargetParse {
  const example = 'dbt ./target   or   dbt cloud 70403103';
  const [first, second, extra] = args;
  if (!first) return fail('`dbt` needs a target/ directory or `cloud <run_id>`.', example);
  if (first === 'cloud') {
    if (!second || !/^\d+$/.test(second)) return fail('`dbt cloud` needs a numeric run id.', example);
    if (extra !== undefined) return fail(`Unexpected \`${extra}\` after the run id.`, example);
    return { ok: true, target: { platform: 'dbt', cloudRunId: second } };
  }
  if (second !== undefined) return fail(`Unexpected \`${second}\` after the dbt path.`, example);
  return { ok: true, target: { platform: 'dbt', path: first } };
}

/** Parses a Spark UI, History Server, Airflow UI or dbt Cloud URL into a target. */
export function parseTargetUrl(raw: string): TargetParse {
  return verified(urlTarget(raw));
}

function verified(res: TargetParse): TargetParse {
  return res.ok ? checked(res.target) : res;
}

function urlTarget(raw: string): TargetParse {
  let u: URL;
  let decoded: string;
  try {
    u = new URL(raw);
    decoded = decodeURIComponent(u.pathname);
  } catch {
    return fail(`\`${raw}\` is not a valid URL.`);
  }
  const dbtRun =
    decoded.match(/\/deploy\/\d+\/projects\/\d+\/runs\/(\d+)/) ?? decoded.match(/\/runs\/(\d+)\/?$/);
  if (dbtRun?.[1] && /getdbt|dbt/i.test(u.hostname + decoded))
    return { ok: true, target: { platform: 'dbt', cloudRunId: dbtRun[1], url: raw } };
  const airflow = parseAirflowUrl(u, decoded);
  if (airflow) return airflow;
  const sparkId = `${decoded}?${u.search}`.match(SPARK_ID_IN_TEXT)?.[1] ?? u.searchParams.get('appId');
  if (sparkId) {
    const after = decoded.split(sparkId)[1] ?? '';
    const attempt = after.match(/^\/(\d+)(?:\/|$)/)?.[1];
    return {
      ok: true,
      target: { platform: 'spark', appId: sparkId, ...(attempt ? { attempt } : {}), url: raw },
    };
  }
  return fail(
    `\`${raw}\` does not look like a Spark, Airflow or dbt Cloud run URL (no application or run id in it).`,
  );
}

function parseAirflowUrl(u: URL, path: string): TargetParse | null {
  // Airflow 3 UI: /dags/<dag>/runs/<run>[/tasks/<task>]
  const v3 = path.match(/\/dags\/([^/]+)\/runs\/([^/]+)(?:\/tasks\/([^/]+))?/);
  if (v3?.[1] && v3[2]) return airflowTarget(u, v3[1], { runId: v3[2] }, v3[3]);
  // REST API: /api/v1|v2/dags/<dag>/dagRuns/<run>[/taskInstances/<task>[/logs/<n>]]
  const api = path.match(/\/api\/v[12]\/dags\/([^/]+)\/dagRuns\/([^/]+)(?:\/taskInstances\/([^/]+))?/);
  if (api?.[1] && api[2]) return airflowTarget(u, api[1], { runId: api[2] }, api[3]);
  // Airflow 2 UI: /dags/<dag>/grid?dag_run_id=…&task_id=…, /graph?…, /log?dag_id=…&execution_date=…
  const dagId = path.match(/\/dags\/([^/]+)(?:\/|$)/)?.[1] ?? u.searchParams.get('dag_id');
  const runId = u.searchParams.get('dag_run_id') ?? u.searchParams.get('run_id');
  const logicalDate = u.searchParams.get('execution_date') ?? u.searchParams.get('logical_date');
  const taskId = u.searchParams.get('task_id') ?? undefined;
  if (dagId && runId) return airflowTarget(u, dagId, { runId }, taskId);
  if (dagId && logicalDate) return airflowTarget(u, dagId, { logicalDate }, taskId);
  return null;
}

function airflowTarget(
  u: URL,
  dagId: string,
  run: { runId: string } | { logicalDate: string },
  taskId?: string,
): TargetParse {
  return {
    ok: true,
    target: { platform: 'airflow', dagId, ...run, ...(taskId ? { taskId } : {}), url: u.href },
  };
}

/** Parses the `/heal` / CLI target text. Never throws; errors name the word not understood. */
export function parseTarget(text: string): TargetParse {
  // Checked whole, before splitting: `X-API-Key: abc…` is a secret only next to its key.
  if (redact(text) !== text)
    return fail(
      'That text looks like it carries a secret (a key, token or password); Heal will not repeat it.',
    );
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [head, ...rest] = words;
  if (!head) return fail('Tell me what to investigate.', 'spark application_1700000000000_0042');
  if (/^https?:\/\//i.test(head)) {
    if (rest.length) return fail(`Unexpected \`${rest[0]}\` after the URL.`);
    return parseTargetUrl(head);
  }
  switch (head.toLowerCase()) {
    case 'spark':
      return verified(parseSpark(rest));
    case 'airflow':
      return verified(parseAirflow(rest));
    case 'dbt':
      return verified(parseDbt(rest));
    default:
      return fail(
        `I don't understand \`${head}\`: a target starts with spark, airflow, dbt or a URL.`,
        'spark application_1700000000000_0042',
      );
  }
}

/** A stable, canonical key for a target: the same run always gets the same key. */
export function targetKey(t: Target): string {
  switch (t.platform) {
    case 'spark':
      return `spark:${t.appId}:${t.attempt ?? ''}`;
    case 'airflow':
      return `airflow:${t.dagId}:${t.runId ?? `@${t.logicalDate}`}:${t.taskId ?? ''}`;
    case 'dbt':
      return `dbt:${t.cloudRunId ? `cloud:${t.cloudRunId}` : `path:${t.path ?? ''}`}`;
  }
}

/** A short human label, e.g. `spark application_…_0042 (attempt 1)`. */
export function describeTarget(t: Target): string {
  switch (t.platform) {
    case 'spark':
      return `spark ${t.appId}${t.attempt ? ` (attempt ${t.attempt})` : ''}`;
    case 'airflow':
      return `airflow ${t.dagId} ${t.runId ?? `(logical date ${t.logicalDate})`}${t.taskId ? ` ${t.taskId}` : ''}`;
    case 'dbt':
      return t.cloudRunId ? `dbt cloud run ${t.cloudRunId}` : `dbt ${t.path}`;
  }
}
