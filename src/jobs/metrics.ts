import type { Redis } from 'ioredis';

/**
 * Investigation metrics live in Redis (one hash per prefix) because investigations finish in
 * worker processes while Prometheus scrapes `web`: workers increment, `web` renders on scrape.
 * Every web replica reports the same cluster-wide totals.
 */
export type Outcome = 'diagnosed' | 'abstained' | 'failed';

/** Histogram buckets (seconds) for end-to-end investigation latency, claim → published. */
export const INVESTIGATION_BUCKETS = [1, 2.5, 5, 10, 30, 60, 120, 300, 600] as const;

export function metricsKey(prefix: string): string {
  return `${prefix}:metrics`;
}

/** Records one finished investigation (called by the worker, once per incident). */
export async function recordInvestigation(
  redis: Redis,
  prefix: string,
  outcome: Outcome,
  seconds: number,
): Promise<void> {
  const key = metricsKey(prefix);
  const m = redis.multi().hincrby(key, `outcome:${outcome}`, 1);
  for (const le of INVESTIGATION_BUCKETS) if (seconds <= le) m.hincrby(key, `bucket:${le}`, 1);
  m.hincrbyfloat(key, 'sum', seconds).hincrby(key, 'count', 1);
  await m.exec();
}

/** Prometheus text for the investigation counters and latency histogram stored in Redis. */
export async function investigationMetricsText(redis: Redis, prefix: string): Promise<string> {
  const h = await redis.hgetall(metricsKey(prefix));
  const n = (f: string) => Number(h[f] ?? 0);
  const lines = [
    '# HELP heal_investigations_total Investigations finished, by outcome.',
    '# TYPE heal_investigations_total counter',
    ...(['diagnosed', 'abstained', 'failed'] as const).map(
      (o) => `heal_investigations_total{outcome="${o}"} ${n(`outcome:${o}`)}`,
    ),
    '# HELP heal_investigation_duration_seconds Time from claim to published report (or final failure).',
    '# TYPE heal_investigation_duration_seconds histogram',
    ...INVESTIGATION_BUCKETS.map(
      (le) => `heal_investigation_duration_seconds_bucket{le="${le}"} ${n(`bucket:${le}`)}`,
    ),
    `heal_investigation_duration_seconds_bucket{le="+Inf"} ${n('count')}`,
    `heal_investigation_duration_seconds_sum ${n('sum')}`,
    `heal_investigation_duration_seconds_count ${n('count')}`,
  ];
  return `${lines.join('\n')}\n`;
}
