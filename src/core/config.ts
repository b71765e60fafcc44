import cronParser from 'cron-parser';
import { z } from 'zod';
import { parseHostPattern } from './host-pattern.ts';

const url = (what: string) => z.url({ protocol: /^https?$/, error: `must be an http(s) URL (${what})` });

const optionalUrl = (what: string) => z.preprocess((v) => (v === '' ? undefined : v), url(what).optional());

const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

const csv = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const positiveInt = (dflt: number) => z.coerce.number().int().positive().default(dflt);

const validTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const validCron = (expr: string) => {
  try {
    cronParser.parseExpression(expr);
    return true;
  } catch {
    return false;
  }
};

/** Every environment variable Heal reads, validated once (DESIGN.md §4). */
export const ConfigSchema = z
  .object({
    REDIS_URL: z
      .string()
      .default('redis://127.0.0.1:6379')
      .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL'),
    /**
     * Redis Cluster seed nodes, `host:port,host:port`. When set, Heal connects to the cluster (REDIS_URL's
     * host is ignored; its password and TLS are kept) and HEAL_QUEUE_PREFIX must be hash-tagged (`{heal}`).
     */
    REDIS_CLUSTER_NODES: csv.refine(
      (nodes) => nodes.every((n) => /^[^\s:]+:\d{1,5}$/.test(n)),
      'must be a comma-separated list of host:port',
    ),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    SLACK_BOT_TOKEN: optionalString,
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_APP_TOKEN: optionalString,
    SLACK_API_URL: url('Slack Web API base')
      .default('https://slack.com/api/')
      .refine((v) => v.endsWith('/'), 'must end with a slash, like https://slack.com/api/'),
    ANTHROPIC_API_KEY: optionalString,
    ANTHROPIC_BASE_URL: optionalUrl('Anthropic API base'),
    HEAL_MODEL: z.string().min(1).default('claude-sonnet-5-5'),
    SPARK_HISTORY_URL: optionalUrl('Spark History Server base'),
    AIRFLOW_BASE_URL: optionalUrl('Airflow base'),
    AIRFLOW_USERNAME: optionalString,
    AIRFLOW_PASSWORD: optionalString,
    AIRFLOW_TOKEN: optionalString,
    DBT_CLOUD_URL: optionalUrl('dbt Cloud base'),
    DBT_CLOUD_ACCOUNT_ID: optionalString,
    DBT_CLOUD_TOKEN: optionalString,
    HEAL_APPROVERS: csv,
    /** Read-only PostgreSQL URL for bounded warehouse profiling (dbt investigations). */
    HEAL_WAREHOUSE_URL: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
    /** Statement timeout for warehouse profiling queries, in ms. */
    HEAL_WAREHOUSE_TIMEOUT_MS: positiveInt(5_000),
    HEAL_ALERT_CHANNELS: csv,
    /**
     * The only directories under which Heal reads a local dbt target/ named from Slack (`/heal dbt <dir>`), a
     * webhook, an alert or another platform's log (absolute, no `..`, symlinks followed). Empty: none. The
     * `heal investigate` CLI reads any path a human typed.
     */
    HEAL_DBT_ROOTS: csv,
    /**
     * Hosts Heal may fetch a URL from when the URL comes from platform data (Spark executor log links on YARN
     * NodeManagers or standalone workers, redirects), besides the configured platform hosts themselves.
     * Comma-separated patterns: `nm-1.corp`, `*.nodemanager.corp` (subdomains only), `10.0.0.7`, `10.0.0.0/16`,
     * `[fd12::/16]`, each with an optional `:port`. Link-local, cloud-metadata, unspecified, multicast and
     * broadcast addresses are refused even when listed (src/adapters/egress.ts).
     */
    HEAL_FETCH_ALLOW_HOSTS: csv.superRefine((patterns, ctx) => {
      for (const p of patterns) {
        const parsed = parseHostPattern(p);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
      }
    }),
    /** Per-request timeout for platform APIs, in ms. */
    HEAL_HTTP_TIMEOUT_MS: positiveInt(10_000),
    /** Upper bound on bytes read from one log before giving up on it. */
    HEAL_LOG_MAX_BYTES: positiveInt(64 * 1024 * 1024),
    /** BullMQ lock duration; a crashed worker's job is picked up again after this. */
    HEAL_JOB_LOCK_MS: positiveInt(30_000),
    /**
     * Investigations one worker runs at once. They mostly wait (platform APIs, Slack's per-channel pacing),
     * so a storm of alerts should not queue behind a few of them; memory per investigation is bounded.
     */
    HEAL_WORKER_CONCURRENCY: positiveInt(16),
    HEAL_QUEUE_PREFIX: z.string().min(1).default('heal'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** YAML file mapping pipelines (dbt projects, DAG folders, Spark apps) to git repositories and paths. */
    HEAL_REPOS_FILE: optionalString,
    /** GitHub REST API base (GitHub Enterprise: https://<host>/api/v3). */
    GITHUB_API_URL: url('GitHub API base').default('https://api.github.com'),
    /** Token for cloning, pushing `heal/*` branches and opening pull requests. */
    GITHUB_TOKEN: optionalString,
    /** Author of Heal's fix commits, `Name <email>`. */
    HEAL_GIT_AUTHOR: z
      .string()
      .regex(/^[^<>]+ <[^<>\s]+>$/, 'must look like Name <email>')
      .default('Heal <heal-bot@users.noreply.github.com>'),
    /** Slack user group (`S…`) or user (`U…`) mentioned when a fix waits too long or a failure recurs. */
    HEAL_ONCALL_GROUP: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .regex(/^[SUW][A-Z0-9]{2,}$/, 'must be a Slack user-group id (S…) or user id (U…)')
        .optional(),
    ),
    /** How long a proposed fix may wait for approval before the thread escalates to HEAL_ONCALL_GROUP. */
    HEAL_FIX_APPROVAL_TIMEOUT_MS: positiveInt(4 * 3600_000),
    /** Channel id where webhook alerts (`POST /alerts/<source>`) open their threads. */
    HEAL_WEBHOOK_CHANNEL: optionalString,
    /** Shared secret for `/alerts/airflow` and `/alerts/generic` (`Authorization: Bearer …`); unset: open. */
    HEAL_WEBHOOK_TOKEN: optionalString,
    /** dbt Cloud webhook secret: `/alerts/dbt-cloud` verifies the HMAC-SHA256 `Authorization` header. */
    HEAL_DBT_WEBHOOK_SECRET: optionalString,
    /**
     * Largest request body `heal web` reads on `POST /slack/events` and `POST /alerts/<source>`, in bytes
     * (default 1 MiB: Slack's largest payloads, big block_actions / view_submission, stay well under it).
     * A bigger body is refused with 413 as soon as its Content-Length or its streamed bytes pass this;
     * no more than this is ever buffered per request, and at most 32 times this for all requests at once.
     */
    HEAL_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    /** A signed webhook whose own timestamp is further than this from now is refused as stale. */
    HEAL_WEBHOOK_MAX_AGE_MS: positiveInt(5 * 60_000),
    /** YAML alert rules per channel (alerting bots, field regexes); unset: config/alert-rules.default.yaml. */
    HEAL_ALERT_RULES_FILE: optionalString,
    /**
     * Who may Dismiss an incident (and undo it): `approvers` — users and groups in HEAL_APPROVERS (default);
     * `channel` — anyone clicking in the incident's own channel. Whoever dismissed may always undo it.
     */
    HEAL_DISMISSERS: z.enum(['approvers', 'channel']).default('approvers'),
    /** After an incident is resolved (dismissed, rerun succeeded), alerts for it are suppressed this long. */
    HEAL_SUPPRESS_MS: z.coerce.number().int().min(0).default(3_600_000),
    /** Grouped alerts update the thread's counter message at most once per this many ms. */
    HEAL_GROUP_SUMMARY_MS: positiveInt(5_000),
    /** A failure signature seen this many times in 7 days is marked for escalation. */
    HEAL_RECUR_ESCALATE: positiveInt(3),
    /** YAML silent-failure monitors (dbt target dirs, dbt Cloud jobs, Airflow DAGs) run by the worker. */
    HEAL_MONITORS_FILE: optionalString,
    /**
     * App-wide spacing of chat.update calls (Slack Tier 3, ~50/min). Raise the rate (lower this) only where
     * Slack granted more; 0 leaves only the 429 handling.
     */
    HEAL_SLACK_UPDATE_INTERVAL_MS: z.coerce.number().int().min(0).default(1200),
    /**
     * How long a diagnosed investigation keeps retrying to publish its thread while Slack fails (5xx,
     * connection errors, rate limits), counted from the first failure with no Slack call succeeding since
     * (default 2 h). The report is stored meanwhile and `/heal status` says it waits for Slack; the job waits
     * in BullMQ's delayed set (no worker slot held). Past it the incident is marked failed. 0: no retry.
     */
    HEAL_PUBLISH_RETRY_MS: z.coerce.number().int().min(0).default(7_200_000),
    /** First delay between publish retries, doubled after each failure up to HEAL_PUBLISH_BACKOFF_MAX_MS. */
    HEAL_PUBLISH_BACKOFF_MS: positiveInt(2_000),
    /** Largest delay between publish retries (default 5 min). */
    HEAL_PUBLISH_BACKOFF_MAX_MS: positiveInt(5 * 60_000),
    /** Channel id of the weekly digest (top failure signatures, time to root cause, outcomes); unset: none. */
    HEAL_DIGEST_CHANNEL: optionalString,
    /** When the digest is posted: a cron pattern (default Mondays 09:00) in HEAL_DIGEST_TZ. */
    HEAL_DIGEST_CRON: z
      .string()
      .default('0 9 * * 1')
      .refine(validCron, 'must be a cron pattern like `0 9 * * 1`'),
    /** IANA time zone of HEAL_DIGEST_CRON (default UTC). */
    HEAL_DIGEST_TZ: z
      .string()
      .default('UTC')
      .refine(validTimeZone, 'must be an IANA time zone like Europe/Paris'),
    /** Token for the BullMQ dashboard at /admin/queues (Basic auth password or Bearer); unset: no dashboard. */
    HEAL_DASHBOARD_TOKEN: optionalString,
  })
  .refine((c) => c.REDIS_CLUSTER_NODES.length === 0 || /^[^{]*\{[^}]+\}/.test(c.HEAL_QUEUE_PREFIX), {
    path: ['HEAL_QUEUE_PREFIX'],
    message: 'must contain a hash tag like {heal} when REDIS_CLUSTER_NODES is set (one slot per queue)',
  })
  .transform((c) => ({ ...c, SPARK_HISTORY_URL: c.SPARK_HISTORY_URL?.replace(/\/+$/, '') }));

export type Config = z.infer<typeof ConfigSchema>;

/** Raised when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The only reader of the environment. Throws ConfigError naming each missing or invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  throw new ConfigError(problems);
}

/** What the Slack-facing processes need; names every missing variable at once. */
export function requireSlack(
  config: Config,
  opts: { web: boolean },
): {
  botToken: string;
  signingSecret: string;
} {
  const missing: string[] = [];
  if (!config.SLACK_BOT_TOKEN) missing.push('SLACK_BOT_TOKEN: required (xoxb-…)');
  if (opts.web && !config.SLACK_SIGNING_SECRET && !config.SLACK_APP_TOKEN)
    missing.push('SLACK_SIGNING_SECRET: required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)');
  if (missing.length) throw new ConfigError(missing);
  return { botToken: config.SLACK_BOT_TOKEN ?? '', signingSecret: config.SLACK_SIGNING_SECRET ?? '' };
}
