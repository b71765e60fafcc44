/** Seeded generators of hostile `/heal` texts and webhook bodies for the security tests. */
import { INJECTIONS, SECRETS } from '../support/untrusted.ts';

const WORDS = [
  'spark',
  'airflow',
  'dbt',
  'help',
  'status',
  'history',
  'app-20261120021500-0042',
  'application_1700000000000_0042',
  'etl_daily',
  'manual__2026-01-01T00:00:00+00:00',
  'http://127.0.0.1:1/api/v1/applications/x',
  'https://airflow.example.com/dags/x/grid?dag_run_id=y',
  'file:///etc/passwd',
  'javascript:alert(1)',
  '../../../../etc/shadow',
  '<!channel>',
  '<@U0ADMIN>',
  '--json',
  '`rm -rf /`',
  '$(id)',
  '%00',
  '\u0000',
  '\u202e',
  '💥',
  '{{7*7}}',
  '"\'',
];

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)] as T;
}

function randomChars(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCodePoint(Math.floor(rand() * (rand() < 0.8 ? 128 : 0x2ffff)));
  return s.replace(/[\uD800-\uDFFF]/g, '?');
}

/** A `/heal` text: grammar words, hostile tokens, corpus secrets and injections, random code points. */
export function fuzzHealText(rand: () => number): string {
  const parts: string[] = [];
  const n = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.5) parts.push(pick(rand, WORDS));
    else if (r < 0.6) parts.push(pick(rand, SECRETS).context);
    else if (r < 0.7) parts.push(pick(rand, INJECTIONS).text);
    else if (r < 0.75) parts.push('x'.repeat(Math.floor(rand() * 5000)));
    else parts.push(randomChars(rand, Math.floor(rand() * 40)));
  }
  return parts.join(rand() < 0.8 ? ' ' : pick(rand, ['\n', '\t', '  ', '']));
}

/** A webhook body: valid-ish JSON of wrong shapes, truncated JSON, huge or deep values, non-JSON bytes. */
export function fuzzWebhookBody(rand: () => number): string {
  const value = (depth: number): unknown => {
    const r = rand();
    if (depth > 3 || r < 0.3) return pick(rand, [null, true, 0, -1, 1e308, '', fuzzHealText(rand)]);
    if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
    const keys = ['dag_id', 'run_id', 'task_id', 'target', 'channel', 'state', 'data', 'jobId', 'runId'];
    return Object.fromEntries(
      Array.from({ length: Math.floor(rand() * 5) }, () => [pick(rand, keys), value(depth + 1)]),
    );
  };
  const body = JSON.stringify(value(0)) ?? 'null';
  const r = rand();
  if (r < 0.1) return body.slice(0, Math.floor(rand() * body.length));
  if (r < 0.15) return randomChars(rand, 200);
  return body;
}
