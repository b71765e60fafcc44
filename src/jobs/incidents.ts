import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Collection, PinResult } from '../adapters/types.ts';
import { Pinned, Report } from '../core/report.ts';
import { Target } from '../core/target.ts';
import type { FixProposal } from '../diagnosis/fix.ts';
import type { RecurrenceView } from '../report/types.ts';
import { FixProposalSchema } from './fix.ts';
import { FixState } from './fix-state.ts';
import { RecurrenceViewSchema, recordOutcome } from './recurrence.ts';

/** How far an investigation got; each stage is stored before the next one starts. */
export const Checkpoint = z.enum(['claimed', 'pinned', 'collected', 'diagnosed', 'published', 'failed']);
export type Checkpoint = z.infer<typeof Checkpoint>;

const json = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((s) => JSON.parse(s) as unknown)
    .pipe(schema);

const PinSchema = z.object({ pinned: Pinned, target: Target });
const CollectionSchema = z.object({
  evidence: z.array(z.unknown()),
  evidenceIndex: z.record(z.string(), z.string()),
  gaps: z.array(z.string()),
  facts: z.unknown(),
});

/** Who did something and when (epoch ms). */
export const Stamp = z.object({ by: z.string().min(1), at: z.number() });
export type Stamp = z.infer<typeof Stamp>;

/** A rerun's progress, stored on the incident so a restarted job never writes twice. */
export const RerunState = Stamp.extend({
  status: z.enum(['requested', 'previewed', 'executing', 'running', 'succeeded', 'failed', 'error']),
  summary: z.string().optional(),
  plan: z.object({ items: z.array(z.string()), summary: z.string() }).optional(),
  started: z
    .object({ items: z.array(z.string()), summary: z.string(), handle: z.record(z.string(), z.unknown()) })
    .optional(),
  /** Follow-up polls done so far. */
  polls: z.number().int().default(0),
});
export type RerunState = z.infer<typeof RerunState>;

/** One incident as stored in Redis (a hash); every field is parsed on the way out. */
export const IncidentRecord = z.object({
  incidentId: z.string(),
  target: json(Target),
  channel: z.string(),
  /** Thread root for alert threads (the alert's ts). */
  threadTs: z.string().optional(),
  requestedBy: z.string().optional(),
  source: z.enum(['command', 'alert']),
  createdAt: z.coerce.number(),
  checkpoint: Checkpoint,
  /** When the root cause was first posted (epoch ms): the digest's time to root cause. */
  publishedAt: z.coerce.number().optional(),
  /** ts of the thread-parent message Heal posted and updates in place. */
  parentTs: z.string().optional(),
  /** Permalink of the thread parent, so a duplicate `/heal` can link it without a Slack call. */
  permalink: z.string().optional(),
  /** How many evidence replies were already posted (a restarted job posts only the rest). */
  repliesPosted: z.coerce.number().int().default(0),
  pin: json(PinSchema).optional(),
  collection: json(CollectionSchema).optional(),
  report: json(Report).optional(),
  error: z.string().optional(),
  /** The rerun someone asked for, and how far it got. */
  rerun: json(RerunState).optional(),
  dismissed: json(Stamp).optional(),
  /** The validated fix proposal stored with the report (the approve modal and the fix job read it). */
  fixProposal: json(FixProposalSchema).optional(),
  /** The recurrence badge as posted with the root cause (button re-renders keep it). */
  recurrence: json(RecurrenceViewSchema).optional(),
  /** The approved fix, once someone approved it, and how far it got. */
  fix: json(FixState).optional(),
});
export type IncidentRecord = Omit<z.infer<typeof IncidentRecord>, 'pin' | 'collection'> & {
  pin?: PinResult;
  collection?: Collection;
};

export interface ClaimInput {
  incidentId: string;
  target: Target;
  channel: string;
  threadTs?: string;
  requestedBy?: string;
  source: 'command' | 'alert';
  /**
   * Whether an incident whose investigation finally failed is claimed anew (default true: someone asked
   * again). Alerts pass false, so a storm does not restart a failing investigation once per alert.
   */
  reclaimFailed?: boolean;
}

export type ClaimResult = { claimed: true } | { claimed: false; existing: IncidentRecord };

// Atomic: either this caller creates the incident, or it gets the existing one back. An incident
// whose investigation finally failed can be claimed again (a new /heal retries it from scratch).
// ARGV[2] = '1': an incident whose investigation finally failed may be claimed again (a human asking anew).
const CLAIM_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 and (ARGV[2] ~= '1' or redis.call('HGET', KEYS[1], 'checkpoint') ~= 'failed') then
  return redis.call('HGETALL', KEYS[1])
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return false`;

// The incident's one rerun: claimed unless one exists that did not end in `error`.
const CLAIM_RERUN_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('no such incident') end
local cur = redis.call('HGET', KEYS[1], 'rerun')
if cur and cjson.decode(cur).status ~= 'error' then return cur end
redis.call('HSET', KEYS[1], 'rerun', ARGV[1])
return false`;

const INCIDENT_TTL_S = 30 * 24 * 3600;

/** 👍/👎 counts of one incident. */
export interface Feedback {
  up: number;
  down: number;
}

/**
 * The names `/heal history` finds an incident under: the DAG id, Spark app id, dbt Cloud run, the culprit
 * (task, model, stage…) and, for Spark, the application name when the evidence recorded it.
 */
export function namesOf(target: Target, report?: Report, collection?: Collection): string[] {
  const names: string[] = [];
  if (target.platform === 'airflow') names.push(target.dagId);
  if (target.platform === 'spark') names.push(target.appId);
  if (target.platform === 'dbt' && target.cloudRunId) names.push(target.cloudRunId);
  const culprit = report?.rootCause?.culprit.id;
  if (culprit) names.push(culprit, culprit.split('.').at(-1) ?? culprit);
  const app = (collection?.facts as { app?: { name?: unknown } } | undefined)?.app?.name;
  if (typeof app === 'string') names.push(app);
  return [...new Set(names.map((n) => n.trim().toLowerCase()).filter((n) => n && n.length <= 200))];
}
const EVENT_TTL_S = 24 * 3600;

function pairsToObject(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

function parseRecord(raw: Record<string, string>): IncidentRecord {
  return IncidentRecord.parse(raw) as IncidentRecord;
}

/** Incident state in Redis: claims, the thread's message ts and the per-stage checkpoints. */
export class IncidentStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  key(incidentId: string): string {
    return `${this.prefix}:incident:${incidentId}`;
  }

  /** Claims the incident for a new investigation; a second claim joins the existing one. */
  async claim(input: ClaimInput): Promise<ClaimResult> {
    const fields: Record<string, string> = {
      incidentId: input.incidentId,
      target: JSON.stringify(input.target),
      channel: input.channel,
      source: input.source,
      createdAt: String(Date.now()),
      checkpoint: 'claimed',
      repliesPosted: '0',
      ...(input.threadTs ? { threadTs: input.threadTs } : {}),
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    };
    const reclaim = input.reclaimFailed === false ? '0' : '1';
    const args = [String(INCIDENT_TTL_S), reclaim, ...Object.entries(fields).flat()];
    const res = (await this.redis.eval(CLAIM_SCRIPT, 1, this.key(input.incidentId), ...args)) as
      | string[]
      | null;
    if (!res) {
      await this.index(input.incidentId, Number(fields.createdAt), namesOf(input.target));
      return { claimed: true };
    }
    return { claimed: false, existing: parseRecord(pairsToObject(res)) };
  }

  async get(incidentId: string): Promise<IncidentRecord | null> {
    const raw = await this.redis.hgetall(this.key(incidentId));
    return Object.keys(raw).length ? parseRecord(raw) : null;
  }

  /** Stores a stage's output and advances the checkpoint in one atomic write. */
  async checkpoint(
    incidentId: string,
    stage: Checkpoint,
    data: {
      pin?: PinResult;
      collection?: Collection;
      report?: Report;
      error?: string;
      fixProposal?: FixProposal;
    } = {},
  ): Promise<void> {
    const fields: Record<string, string> = { checkpoint: stage };
    if (data.fixProposal) fields.fixProposal = JSON.stringify(data.fixProposal);
    if (data.pin) fields.pin = JSON.stringify(data.pin);
    if (data.collection) fields.collection = JSON.stringify(data.collection);
    if (data.report) fields.report = JSON.stringify(data.report);
    if (data.error !== undefined) fields.error = data.error;
    await this.redis.hset(this.key(incidentId), fields);
    if (stage === 'published')
      await this.redis.hsetnx(this.key(incidentId), 'publishedAt', String(Date.now()));
    if (data.report) {
      const rec = await this.get(incidentId);
      const names = namesOf(data.report.target, data.report, data.collection ?? rec?.collection);
      await this.index(incidentId, rec?.createdAt ?? Date.now(), names);
    }
  }

  /** Lists the incident under all / open and under each name `/heal history` looks up. */
  private async index(incidentId: string, createdAt: number, names: string[]): Promise<void> {
    const m = this.redis.multi();
    m.zadd(`${this.prefix}:idx:all`, createdAt, incidentId);
    m.zadd(`${this.prefix}:idx:open`, createdAt, incidentId);
    for (const n of names) m.zadd(this.nameKey(n), createdAt, incidentId);
    await m.exec();
  }

  nameKey(name: string): string {
    return `${this.prefix}:idx:name:${name.trim().toLowerCase()}`;
  }

  /** Incident ids newest first: `open`, `all`, or those of one DAG / model / app name. */
  async ids(which: 'open' | 'all' | { name: string }, limit: number): Promise<string[]> {
    const key = typeof which === 'string' ? `${this.prefix}:idx:${which}` : this.nameKey(which.name);
    return this.redis.zrevrange(key, 0, Math.max(0, limit - 1));
  }

  /** Drops an incident from the open list (dismissed, or its rerun succeeded, or it expired). */
  async close(incidentId: string): Promise<void> {
    await this.redis.zrem(`${this.prefix}:idx:open`, incidentId);
    // When it was resolved: alerts for it are suppressed for HEAL_SUPPRESS_MS (src/jobs/grouping.ts).
    await this.redis.set(`${this.prefix}:resolved:${incidentId}`, String(Date.now()), 'EX', INCIDENT_TTL_S);
  }

  /** When the incident was last resolved (epoch ms), if ever. */
  async resolvedAt(incidentId: string): Promise<number | undefined> {
    const raw = await this.redis.get(`${this.prefix}:resolved:${incidentId}`);
    return raw ? Number(raw) : undefined;
  }

  /**
   * Claims the incident's one rerun for `by` (atomic). A rerun that did not happen (`error`) can be claimed
   * again; otherwise the existing rerun comes back and nothing is claimed.
   */
  async claimRerun(
    incidentId: string,
    by: string,
    at: number,
  ): Promise<{ claimed: boolean; existing?: RerunState }> {
    const state = RerunState.parse({ by, at, status: 'requested' });
    const res = (await this.redis.eval(CLAIM_RERUN_SCRIPT, 1, this.key(incidentId), JSON.stringify(state))) as
      | string
      | null;
    if (!res) return { claimed: true };
    return { claimed: false, existing: RerunState.parse(JSON.parse(res)) };
  }

  async setRerun(incidentId: string, state: RerunState): Promise<void> {
    await this.redis.hset(this.key(incidentId), 'rerun', JSON.stringify(RerunState.parse(state)));
    if (state.status === 'succeeded' || state.status === 'failed')
      await recordOutcome(this.redis, this.prefix, incidentId, {
        kind: 'rerun',
        result: state.status,
        by: state.by,
      });
  }

  /** Marks the incident dismissed (first click wins); returns the stamp in force. */
  async dismiss(incidentId: string, by: string, at: number): Promise<{ dismissed: boolean; stamp: Stamp }> {
    const stamp = { by, at };
    const set = await this.redis.hsetnx(this.key(incidentId), 'dismissed', JSON.stringify(stamp));
    if (set === 1) {
      await this.close(incidentId);
      return { dismissed: true, stamp };
    }
    const raw = await this.redis.hget(this.key(incidentId), 'dismissed');
    return { dismissed: false, stamp: raw ? Stamp.parse(JSON.parse(raw)) : stamp };
  }

  /** Records one user's 👍/👎 (their latest vote counts) for the outcome log. */
  async recordFeedback(incidentId: string, user: string, vote: 'up' | 'down'): Promise<Feedback> {
    const key = `${this.prefix}:feedback:${incidentId}`;
    await this.redis.multi().hset(key, user, vote).expire(key, INCIDENT_TTL_S).exec();
    await recordOutcome(this.redis, this.prefix, incidentId, { kind: 'feedback', result: vote, by: user });
    return this.feedback(incidentId);
  }

  async feedback(incidentId: string): Promise<Feedback> {
    const votes = Object.values(await this.redis.hgetall(`${this.prefix}:feedback:${incidentId}`));
    return { up: votes.filter((v) => v === 'up').length, down: votes.filter((v) => v === 'down').length };
  }

  /** Persists the parent message ts right after posting it, so a restart never posts it again. */
  async setParentTs(incidentId: string, ts: string): Promise<void> {
    await this.redis.hset(this.key(incidentId), 'parentTs', ts);
  }

  /** Keeps the recurrence badge as posted, so re-renders after a click show it too. */
  async setRecurrence(incidentId: string, view: RecurrenceView): Promise<void> {
    await this.redis.hset(this.key(incidentId), 'recurrence', JSON.stringify(view));
  }

  async setPermalink(incidentId: string, permalink: string): Promise<void> {
    await this.redis.hset(this.key(incidentId), 'permalink', permalink);
  }

  async setRepliesPosted(incidentId: string, count: number): Promise<void> {
    await this.redis.hset(this.key(incidentId), 'repliesPosted', String(count));
  }

  /** True the first time an Events API `event_id` is seen; Slack's retries of it get false. */
  async firstDelivery(eventId: string): Promise<boolean> {
    const res = await this.redis.set(`${this.prefix}:event:${eventId}`, '1', 'EX', EVENT_TTL_S, 'NX');
    return res === 'OK';
  }
}
