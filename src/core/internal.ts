import type { Config } from './config.ts';

/**
 * Error text and gaps shown in Slack name the platform and what failed, not the operator's internal base
 * URLs or the worker's absolute filesystem paths (issue 13.10): a channel member learns "the Airflow API
 * timed out", not `http://10.2.0.7:8080` or `/srv/heal/projects/…`. The CLI keeps the full text.
 */
const LABELS: Array<[keyof Config, string]> = [
  ['SPARK_HISTORY_URL', 'the Spark History Server'],
  ['AIRFLOW_BASE_URL', 'the Airflow API'],
  ['DBT_CLOUD_URL', 'dbt Cloud'],
  ['GITHUB_API_URL', 'the GitHub API'],
  ['ANTHROPIC_BASE_URL', 'the Anthropic API'],
  ['SLACK_API_URL', 'the Slack API'],
];

/** Configured base URLs (longest first) with the words that replace them. */
export function internalBases(config: Config): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [key, label] of LABELS) {
    const v = config[key];
    if (typeof v !== 'string' || !v) continue;
    try {
      const u = new URL(v);
      out.push([v.replace(/\/+$/, ''), label], [u.origin, label], [u.host, label]);
    } catch {}
  }
  if (config.HEAL_WAREHOUSE_URL)
    try {
      out.push([new URL(config.HEAL_WAREHOUSE_URL).host, 'the warehouse']);
    } catch {}
  return out.filter(([b]) => b.length > 3).sort((a, b) => b[0].length - a[0].length);
}

// An absolute local path of two or more segments (not a URL path: no scheme or host before it).
const ABS_PATH = /(?<![\w.:/-])\/(?:[\w.@+-]+\/)+([\w.@+-]+)/g;
const API_PATH = /^\/(?:api|dags|history|jobs|stages|executors|applications|ui)\//;

/** `text` with configured base URLs named as their platform and absolute paths cut to their last part. */
export function scrubInternal(text: string, bases: Array<[string, string]>): string {
  let out = text;
  for (const [base, label] of bases) out = out.split(base).join(label);
  return out.replace(ABS_PATH, (m, last: string) => (API_PATH.test(m) ? m : `…/${last}`));
}
