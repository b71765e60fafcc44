import { looksLikeInjection } from '../../core/injection.ts';
import { parseTargetUrl, type Target } from '../../core/target.ts';
import type { Link } from '../types.ts';
import { tiLabel } from './client.ts';
import { DBT_CLOUD_RUN, DBT_TARGET_PATH, SPARK_APP_ID, URL_IN_TEXT } from './patterns.ts';
import type { AirflowSnapshot, TryLog } from './schema.ts';

function targetsIn(text: string): Target[] {
  const out: Target[] = [];
  for (const url of text.match(URL_IN_TEXT) ?? []) {
    const parsed = parseTargetUrl(url.replace(/[.,;]+$/, ''));
    if (parsed.ok && parsed.target.platform !== 'airflow') out.push(parsed.target);
  }
  const app = text.match(SPARK_APP_ID)?.[1];
  if (app && !out.some((t) => t.platform === 'spark')) out.push({ platform: 'spark', appId: app });
  const path = text.match(DBT_TARGET_PATH)?.[1];
  if (path) out.push({ platform: 'dbt', path });
  const cloud = text.match(DBT_CLOUD_RUN);
  const runId = cloud?.[1] ?? cloud?.[2];
  if (runId && !out.some((t) => t.platform === 'dbt')) out.push({ platform: 'dbt', cloudRunId: runId });
  return out;
}

const keyOf = (t: Target) =>
  t.platform === 'spark' ? `spark:${t.appId}` : t.platform === 'dbt' ? `dbt:${t.cloudRunId ?? t.path}` : '';

/**
 * Runs on other platforms that a failing task launched: a Spark application id / UI URL or a dbt
 * target dir / dbt Cloud run in its log (latest try first). The diagnosis layer follows them.
 */
export function findLinks(s: AirflowSnapshot, index: Record<string, string>): Link[] {
  const links = new Map<string, Link>();
  const logs: TryLog[] = s.logs.filter((l) => !l.baseline).sort((a, b) => b.tryNumber - a.tryNumber);
  for (const log of logs)
    for (const line of log.lines) {
      if (looksLikeInjection(line.text)) continue;
      for (const target of targetsIn(line.text)) {
        const k = keyOf(target);
        if (!k || links.has(k)) continue;
        const evidenceKey = `log:${log.taskId}:${log.tryNumber}`;
        const name = tiLabel(log.taskId, log.mapIndex);
        links.set(k, {
          target,
          reason: `${target.platform === 'spark' ? 'Spark application' : 'dbt run'} named in the log of task ${name}, try ${log.tryNumber}`,
          ...(index[evidenceKey] ? { evidenceKey } : {}),
          from: { kind: 'task', id: name },
        });
      }
    }
  return [...links.values()];
}
