import type { Config } from '../core/config.ts';
import type { Target } from '../core/target.ts';

/** The part of a URL's path before the first segment that belongs to the app, not to the server's base. */
function baseOf(url: URL, appSegments: RegExp): string {
  const m = url.pathname.match(appSegments);
  const prefix = m?.index !== undefined ? url.pathname.slice(0, m.index) : '';
  return `${url.origin}${prefix.replace(/\/+$/, '')}`;
}

const SPARK_APP_PATH =
  /\/(?:history|api\/v1|jobs|stages|executors|environment|storage|SQL|app|logPage)(?:\/|$|\?)/;
const AIRFLOW_APP_PATH = /\/(?:dags|api\/v[12]|log|home|task|graph|grid)(?:\/|$|\?)/;

/**
 * When a human hands the CLI a UI URL and the platform's server is not configured, the server in the URL
 * is the one to ask (a History Server / Spark UI, an Airflow webserver, dbt Cloud). Only the CLI does this:
 * the bot never lets a URL from Slack choose which server it calls.
 */
export function configForTarget(config: Config, target: Target): Config {
  if (!target.url) return config;
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    return config;
  }
  if (target.platform === 'spark' && !config.SPARK_HISTORY_URL) {
    const proxied = url.pathname.match(/^(.*\/proxy\/application_\d+_\d+)/)?.[1];
    return {
      ...config,
      SPARK_HISTORY_URL: proxied ? `${url.origin}${proxied}` : baseOf(url, SPARK_APP_PATH),
    };
  }
  if (target.platform === 'airflow' && !config.AIRFLOW_BASE_URL)
    return { ...config, AIRFLOW_BASE_URL: baseOf(url, AIRFLOW_APP_PATH) };
  if (target.platform === 'dbt' && target.cloudRunId && !config.DBT_CLOUD_URL) {
    const account = url.pathname.match(/\/deploy\/(\d+)\//)?.[1];
    return {
      ...config,
      DBT_CLOUD_URL: url.origin,
      ...(account && !config.DBT_CLOUD_ACCOUNT_ID ? { DBT_CLOUD_ACCOUNT_ID: account } : {}),
    };
  }
  return config;
}
