import { parseTargetUrl, Target } from '../core/target.ts';

/** Undoes Slack's wire-format escaping (`&amp;`, `&lt;`, `&gt;`); `&amp;` last so `&amp;lt;` stays `&lt;`. */
export function unescapeSlack(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

// Every string-valued text-ish field of a message, its attachments and blocks (recursively).
const TEXT_KEYS = new Set(['text', 'fallback', 'pretext', 'title', 'title_link', 'from_url', 'url', 'value']);

function collectStrings(node: unknown, out: string[], depth = 0): void {
  if (depth > 12 || node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) collectStrings(item, out, depth + 1);
    return;
  }
  for (const [k, v] of Object.entries(node)) {
    if (typeof v === 'string' && TEXT_KEYS.has(k)) out.push(v);
    else if (typeof v === 'object') collectStrings(v, out, depth + 1);
  }
}

/** The texts of a message event: `text`, then attachments and blocks. */
export function messageTexts(event: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof event.text === 'string') out.push(event.text);
  collectStrings(event.attachments, out);
  collectStrings(event.blocks, out);
  return out;
}

/**
 * URLs in Slack wire-format text: `<url>` and `<url|label>` links first, then bare URLs; each
 * unescaped. Channel / user mentions (`<#C…>`, `<@U…>`) are not URLs and are skipped.
 */
export function extractUrls(text: string): string[] {
  const urls: string[] = [];
  const rest = text.replace(/<([^<>|]+)(?:\|[^<>]*)?>/g, (_m, inner: string) => {
    if (/^https?:\/\//i.test(inner)) urls.push(unescapeSlack(inner));
    return ' ';
  });
  for (const m of rest.matchAll(/https?:\/\/[^\s<>"'`|]+/gi))
    urls.push(unescapeSlack(m[0].replace(/[).,;]+$/, '')));
  return urls;
}

// `dag_id: x`, `*DAG*: x`, `dag_id=x`, `Run ID: x` … as Airflow failure callbacks and alert bots write them.
const FIELD = (names: string) =>
  new RegExp(`(?:^|[\\s,;|(\\[{*_>])(?:${names})[*_\\s]*[:=][*_\\s]*[\`'"]?([^\\s\`'",;|)\\]}*]+)`, 'i');
const DAG_FIELD = FIELD('dag_id|dag');
const RUN_FIELD = FIELD('dag_run_id|run_id|run id|dag run');
const TASK_FIELD = FIELD('task_id|task');
const DATE_FIELD = FIELD('logical_date|execution_date|logical date|execution date|execution time');

/**
 * An Airflow target from `dag_id` / `run_id` / `task_id` fields in alert text (an on_failure_callback
 * message); needs a dag id and a run id or logical date. Links are removed first so URLs are not fields.
 */
export function airflowFieldsTarget(text: string): Target | null {
  const plain = unescapeSlack(text.replace(/<[^<>]*>/g, ' '));
  const dagId = plain.match(DAG_FIELD)?.[1];
  const runId = plain.match(RUN_FIELD)?.[1];
  const logicalDate = plain.match(DATE_FIELD)?.[1];
  const taskId = plain.match(TASK_FIELD)?.[1];
  if (!dagId || !(runId || logicalDate)) return null;
  const parsed = Target.safeParse({
    platform: 'airflow',
    dagId,
    ...(runId ? { runId } : { logicalDate }),
    ...(taskId ? { taskId } : {}),
  });
  return parsed.success ? parsed.data : null;
}

/**
 * The target of an alert: the first URL that parses to a target a worker can investigate, else Airflow
 * `dag_id` / `run_id` / `task_id` fields in its text.
 */
export function findAlertTarget(
  event: Record<string, unknown>,
  isSupported: (platform: Target['platform']) => boolean,
): Target | null {
  const seen = new Set<string>();
  for (const text of messageTexts(event)) {
    for (const url of extractUrls(text)) {
      if (seen.has(url)) continue;
      seen.add(url);
      const parsed = parseTargetUrl(url);
      if (parsed.ok && isSupported(parsed.target.platform)) return parsed.target;
    }
  }
  for (const text of messageTexts(event)) {
    const fields = airflowFieldsTarget(text);
    if (fields && isSupported('airflow')) return fields;
  }
  return null;
}
