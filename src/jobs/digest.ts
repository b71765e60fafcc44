/**
 * The weekly digest (issue 8): what failed, how fast Heal found the root cause, and what the reruns and
 * fixes it offered achieved, computed from the stored incidents and failure signatures of one window.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { IncidentRecord, IncidentStore } from './incidents.ts';
import { Outcome } from './recurrence.ts';

/** The digest looks back this far (a week, whatever the schedule). */
export const DIGEST_WINDOW_MS = 7 * 24 * 3600_000;

/** At most this many incidents are read for one digest (newest first); the digest says when it was cut. */
export const DIGEST_MAX_INCIDENTS = 5_000;
const TOP_SIGNATURES = 5;

const Count = z.number().int().min(0);

/** One recurring failure signature of the window. */
export const DigestSignature = z.object({
  signature: z.string(),
  platform: z.string(),
  pipeline: z.string(),
  culprit: z.string(),
  category: z.string(),
  /** The normalised error (numbers, ids and dates stripped). */
  error: z.string(),
  /** Incidents with this signature created in the window. */
  count: Count,
  lastIncidentId: z.string(),
  lastPermalink: z.string().optional(),
  /** The last outcome that fixed it, ever (a rerun that succeeded, a merged fix). */
  lastFix: Outcome.optional(),
});
export type DigestSignature = z.infer<typeof DigestSignature>;

/** The digest of one window: plain numbers, rates are left to the renderer. */
export const Digest = z.object({
  from: z.number(),
  to: z.number(),
  /** True when the window held more than {@link DIGEST_MAX_INCIDENTS} incidents (the oldest were skipped). */
  truncated: z.boolean(),
  incidents: z.object({
    total: Count,
    diagnosed: Count,
    abstained: Count,
    failed: Count,
    inProgress: Count,
  }),
  /** Incident created (alert, `/heal`) → root cause posted in Slack, for diagnosed incidents. */
  timeToRootCause: z
    .object({ count: Count, p50Ms: z.number(), p90Ms: z.number(), maxMs: z.number() })
    .optional(),
  reruns: z.object({ requested: Count, succeeded: Count, failed: Count, pending: Count }),
  fixes: z.object({ approved: Count, opened: Count, failed: Count, pending: Count }),
  feedback: z.object({ up: Count, down: Count }),
  categories: z.array(z.object({ category: z.string(), count: Count })),
  top: z.array(DigestSignature),
});
export type Digest = z.infer<typeof Digest>;

/** What the digest reads: the incidents of the window, their votes and signatures. */
export interface DigestSource {
  redis: Redis;
  prefix: string;
  incidents: Pick<IncidentStore, 'get' | 'feedback'>;
}

/** The `q` quantile (nearest rank) of sorted numbers. */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

async function windowRecords(src: DigestSource, from: number, to: number) {
  const ids = await src.redis.zrevrangebyscore(
    `${src.prefix}:idx:all`,
    to,
    from,
    'LIMIT',
    0,
    DIGEST_MAX_INCIDENTS + 1,
  );
  const kept = ids.slice(0, DIGEST_MAX_INCIDENTS);
  const recs = (await inBatches(kept, (id) => src.incidents.get(id).catch(() => null))).filter(
    (r): r is IncidentRecord => r !== null,
  );
  return { recs, truncated: ids.length > DIGEST_MAX_INCIDENTS };
}

/** Bounded batches: a busy week must not open thousands of concurrent reads. */
async function inBatches<T, R>(items: T[], fn: (item: T) => Promise<R>, size = 200): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

function tally(recs: IncidentRecord[]) {
  const incidents = { total: recs.length, diagnosed: 0, abstained: 0, failed: 0, inProgress: 0 };
  const reruns = { requested: 0, succeeded: 0, failed: 0, pending: 0 };
  const fixes = { approved: 0, opened: 0, failed: 0, pending: 0 };
  const categories = new Map<string, number>();
  const ttrc: number[] = [];
  for (const r of recs) {
    const rc = r.report?.rootCause;
    if (rc) {
      incidents.diagnosed++;
      categories.set(rc.category, (categories.get(rc.category) ?? 0) + 1);
      if (r.publishedAt && r.publishedAt >= r.createdAt) ttrc.push(r.publishedAt - r.createdAt);
    } else if (r.report) incidents.abstained++;
    else if (r.checkpoint === 'failed') incidents.failed++;
    else incidents.inProgress++;
    if (r.rerun) {
      reruns.requested++;
      const s = r.rerun.status;
      if (s === 'succeeded') reruns.succeeded++;
      else if (s === 'failed' || s === 'error') reruns.failed++;
      else reruns.pending++;
    }
    if (r.fix) {
      fixes.approved++;
      if (r.fix.status === 'opened') fixes.opened++;
      else if (r.fix.status === 'error') fixes.failed++;
      else fixes.pending++;
    }
  }
  ttrc.sort((a, b) => a - b);
  const timeToRootCause = ttrc.length
    ? { count: ttrc.length, p50Ms: quantile(ttrc, 0.5), p90Ms: quantile(ttrc, 0.9), maxMs: ttrc.at(-1) ?? 0 }
    : undefined;
  const cats = [...categories].map(([category, count]) => ({ category, count }));
  cats.sort((a, b) => b.count - a.count || a.category.localeCompare(b.category));
  return { incidents, reruns, fixes, categories: cats, ...(timeToRootCause ? { timeToRootCause } : {}) };
}

/** `stage 3`, but `model.shop.fct_orders` (a dbt unique id already names its kind). */
function culpritLabel(kind = '', id = ''): string {
  return !kind || id.startsWith(`${kind}.`) ? id : `${kind} ${id}`;
}

/** The most frequent signatures of the window's incidents (`recs` newest first). */
async function topSignatures(src: DigestSource, recs: IncidentRecord[]): Promise<DigestSignature[]> {
  if (!recs.length) return [];
  const hashes = await src.redis.mget(recs.map((r) => `${src.prefix}:sigof:${r.incidentId}`));
  const bySig = new Map<string, { count: number; last: IncidentRecord }>();
  for (const [i, h] of hashes.entries()) {
    const rec = recs[i];
    if (!h || !rec) continue;
    const cur = bySig.get(h);
    if (cur) cur.count++;
    else bySig.set(h, { count: 1, last: rec });
  }
  const ranked = [...bySig].sort(
    (a, b) => b[1].count - a[1].count || b[1].last.createdAt - a[1].last.createdAt,
  );
  const out: DigestSignature[] = [];
  for (const [h, { count, last }] of ranked.slice(0, TOP_SIGNATURES)) {
    const info = await src.redis.hgetall(`${src.prefix}:sig:${h}`);
    const fix = info.lastFix ? Outcome.safeParse(JSON.parse(info.lastFix)) : undefined;
    out.push({
      signature: h,
      platform: info.platform ?? last.target.platform,
      pipeline: info.pipeline ?? '',
      culprit: culpritLabel(info.culpritKind, info.culprit),
      category: info.category ?? last.report?.rootCause?.category ?? '',
      error: info.error ?? '',
      count,
      lastIncidentId: last.incidentId,
      ...(last.permalink ? { lastPermalink: last.permalink } : {}),
      ...(fix?.success ? { lastFix: fix.data } : {}),
    });
  }
  return out;
}

/** The digest of the incidents created in [from, to]. */
export async function computeDigest(
  src: DigestSource,
  window: { from: number; to: number },
): Promise<Digest> {
  const { recs, truncated } = await windowRecords(src, window.from, window.to);
  const votes = await inBatches(recs, (r) => src.incidents.feedback(r.incidentId));
  const feedback = votes.reduce((a, v) => ({ up: a.up + v.up, down: a.down + v.down }), { up: 0, down: 0 });
  return Digest.parse({
    ...window,
    truncated,
    ...tally(recs),
    feedback,
    top: await topSignatures(src, recs),
  });
}

/** The digest of the week up to `to` (the scheduled post and `/heal digest`). */
export function lastWeekDigest(src: DigestSource, to = Date.now()): Promise<Digest> {
  return computeDigest(src, { from: to - DIGEST_WINDOW_MS, to });
}
