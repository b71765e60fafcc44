import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Report } from '../core/report.ts';
import type { RecurrenceView } from '../report/types.ts';

/** How far back "seen N times" looks. */
export const RECURRENCE_WINDOW_DAYS = 7;
const WINDOW_MS = RECURRENCE_WINDOW_DAYS * 24 * 3600_000;
const TTL_S = 90 * 24 * 3600;

/**
 * What makes two failures "the same": platform, pipeline (Spark app name, DAG id; dbt culprits are already
 * project-qualified), culprit, category and the normalised error. A culprit like "stage 3" alone is not an
 * identity: two different Spark jobs can both fail in their stage 3.
 */
export interface FailureSignature {
  platform: string;
  pipeline: string;
  culprit: string;
  category: string;
  error: string;
}

/**
 * Strips what differs between two occurrences of one error: timestamps, dates, ids, hex, numbers, paths'
 * run-specific parts and quoted values; lower-cased, whitespace collapsed, bounded.
 */
export function normaliseError(text: string): string {
  return text
    .toLowerCase()
    .replace(/\d{4}-\d{2}-\d{2}[t ][\d:.]+(?:z|[+-]\d{2}:?\d{2})?/g, '<ts>')
    .replace(/\d{4}-\d{2}-\d{2}/g, '<date>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uuid>')
    .replace(/\b(?:application|app|attempt|container|job|run|task)[_-][\w-]*\d[\w-]*/g, '<id>')
    .replace(/\b0x[0-9a-f]+\b|\b[0-9a-f]{12,}\b/g, '<hex>')
    .replace(/\d+(?:\.\d+)?/g, '<n>')
    .replace(/(['"`])[^'"`\n]{1,200}\1/g, '<q>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/** The pipeline a report is about: the DAG id, the Spark application's name (from its evidence), or ''. */
export function pipelineOf(report: Report): string {
  const t = report.target;
  if (t.platform === 'airflow') return t.dagId;
  if (t.platform === 'spark') {
    const app = report.evidence.find((e) => e.source === 'spark.app');
    return app?.title.replace(/^Application\s+/, '') ?? '';
  }
  return '';
}

/** The signature of a diagnosed report; none when Heal abstained. */
export function failureSignature(report: Report): FailureSignature | null {
  const rc = report.rootCause;
  if (!rc) return null;
  return {
    platform: report.target.platform,
    pipeline: pipelineOf(report),
    culprit: rc.culprit.id,
    category: rc.category,
    error: normaliseError(rc.summary),
  };
}

export function signatureHash(sig: FailureSignature): string {
  const text = [sig.platform, sig.pipeline, sig.culprit, sig.category, sig.error].join('\u0000');
  return createHash('sha256').update(text).digest('hex').slice(0, 20);
}

/** An outcome worth remembering: a rerun's result, a 👍/👎, a fix that was merged. */
export const Outcome = z.object({
  kind: z.enum(['rerun', 'feedback', 'fix']),
  result: z.string().min(1),
  by: z.string().min(1),
  at: z.number().default(() => Date.now()),
});
export type Outcome = z.input<typeof Outcome>;

/** The badge as posted ({@link RecurrenceView}), stored on the incident so a re-render keeps it. */
export const RecurrenceViewSchema = z.object({
  signature: z.string(),
  seen: z.number(),
  windowDays: z.number(),
  escalate: z.boolean(),
  lastFix: Outcome.optional(),
  feedback: z.object({ up: z.number(), down: z.number() }).optional(),
});

const keys = (prefix: string, h: string) => ({
  seen: `${prefix}:sig:${h}:seen`,
  info: `${prefix}:sig:${h}`,
});

/**
 * Remembers that `incidentId` failed with `report`'s signature (idempotent: a restarted job records it once)
 * and returns how often that signature was seen in the window and how it was last fixed.
 */
export async function recordRecurrence(
  redis: Redis,
  prefix: string,
  incidentId: string,
  report: Report,
  opts: { at: number; escalateAfter: number },
): Promise<RecurrenceView | undefined> {
  const sig = failureSignature(report);
  if (!sig) return undefined;
  const h = signatureHash(sig);
  const k = keys(prefix, h);
  const res = await redis
    .multi()
    .zadd(k.seen, 'NX', opts.at, incidentId)
    .zremrangebyscore(k.seen, 0, opts.at - 4 * WINDOW_MS)
    .expire(k.seen, TTL_S)
    .hset(
      k.info,
      'platform',
      sig.platform,
      'pipeline',
      sig.pipeline,
      'culpritKind',
      report.rootCause?.culprit.kind ?? '',
      'culprit',
      sig.culprit,
      'category',
      sig.category,
      'error',
      sig.error,
    )
    .expire(k.info, TTL_S)
    .set(`${prefix}:sigof:${incidentId}`, h, 'EX', TTL_S)
    .zcount(k.seen, opts.at - WINDOW_MS, '+inf')
    .hgetall(k.info)
    .exec();
  const seen = Number(res?.[6]?.[1] ?? 1);
  const info = (res?.[7]?.[1] ?? {}) as Record<string, string>;
  return recurrenceView(h, seen, info, opts.escalateAfter);
}

function recurrenceView(
  h: string,
  seen: number,
  info: Record<string, string>,
  escalateAfter: number,
): RecurrenceView {
  const last = info.lastFix ? Outcome.safeParse(JSON.parse(info.lastFix)) : undefined;
  const feedback = { up: Number(info.feedbackUp ?? 0), down: Number(info.feedbackDown ?? 0) };
  return {
    signature: h,
    seen,
    windowDays: RECURRENCE_WINDOW_DAYS,
    escalate: seen >= escalateAfter,
    ...(last?.success ? { lastFix: last.data } : {}),
    ...(feedback.up || feedback.down ? { feedback } : {}),
  };
}

/** Stores an incident's outcome on its signature (no-op for incidents without one, e.g. abstentions). */
export async function recordOutcome(
  redis: Redis,
  prefix: string,
  incidentId: string,
  o: Outcome,
): Promise<void> {
  const h = await redis.get(`${prefix}:sigof:${incidentId}`);
  if (!h) return;
  const outcome = Outcome.parse(o);
  const k = keys(prefix, h);
  const m = redis.multi();
  if (outcome.kind === 'feedback')
    m.hincrby(k.info, outcome.result === 'up' ? 'feedbackUp' : 'feedbackDown', 1);
  else if (outcome.result === 'succeeded' || outcome.result === 'merged')
    m.hset(k.info, 'lastFix', JSON.stringify({ ...outcome, incidentId }));
  m.hset(k.info, 'lastOutcome', JSON.stringify({ ...outcome, incidentId }));
  await m.exec();
}

/** A signature's history without recording anything (the digest and tests read it). */
export async function recurrenceOf(
  redis: Redis,
  prefix: string,
  sig: FailureSignature,
  opts: { at: number; escalateAfter: number },
): Promise<RecurrenceView> {
  const h = signatureHash(sig);
  const k = keys(prefix, h);
  const [seen, info] = await Promise.all([
    redis.zcount(k.seen, opts.at - WINDOW_MS, '+inf'),
    redis.hgetall(k.info),
  ]);
  return recurrenceView(h, seen, info, opts.escalateAfter);
}
