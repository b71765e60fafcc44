import type { Redis } from 'ioredis';
import type { Collection, PinResult } from '../adapters/types.ts';
import type { Logger } from '../core/logger.ts';
import { redact, redactDeep } from '../core/redact.ts';
import type { Report } from '../core/report.ts';
import type { Target } from '../core/target.ts';
import type { FixProposal } from '../diagnosis/fix.ts';
import type { RecurrenceView } from '../report/types.ts';
import {
  type Checkpoint,
  type FieldOp,
  IncidentGoneError,
  type IncidentRecord,
  type RecordRead,
  RerunState,
  readRecord,
  type SlackWait,
  Stamp,
  updateRecord,
} from './incident-record.ts';
import { recordOutcome } from './recurrence.ts';

export {
  Checkpoint,
  IncidentGoneError,
  IncidentRecord,
  type RecordRead,
  RerunState,
  SlackWait,
  Stamp,
} from './incident-record.ts';

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

// Atomic: either this caller creates the incident, or it gets the existing one back with its checksum
// ({sha1, HGETALL}). A hash without incidentId (a partial record written after Redis lost the key) is
// replaced. ARGV[2] = '1': an incident whose investigation finally failed may be claimed again (a human
// asking anew). ARGV[3]: the checksum of a record the caller could not parse: replaced if still unchanged.
const CLAIM_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'incidentId') == 1 then
  local cur = redis.call('HGETALL', KEYS[1])
  local sum = redis.sha1hex(table.concat(cur, '\\n'))
  if sum ~= ARGV[3] and (ARGV[2] ~= '1' or redis.call('HGET', KEYS[1], 'checkpoint') ~= 'failed') then
    return {sum, cur}
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return false`;

// The incident's one rerun: claimed unless one exists that did not end in `error`.
const CLAIM_RERUN_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'incidentId') == 0 then return redis.error_reply('no such incident') end
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

/**
 * Incident state in Redis: claims, the thread's message ts and the per-stage checkpoints. A stored record
 * that does not parse is treated as absent (logged once to `log`, see src/jobs/incident-record.ts) and a
 * new claim replaces it; fields are written only into a claimed incident's hash, else
 * {@link IncidentGoneError} is thrown (a worker stops its job instead of resurrecting a partial record).
 */
export class IncidentStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log?: Logger,
  ) {}

  key(incidentId: string): string {
    return `${this.prefix}:incident:${incidentId}`;
  }

  /** Whether Redis is connected now: when not, a command would only queue until it reconnects. */
  reachable(): boolean {
    return this.redis.status === 'ready';
  }

  /** Applies field operations to a claimed incident atomically; throws IncidentGoneError when it vanished. */
  update(incidentId: string, ops: FieldOp[]): Promise<number> {
    return updateRecord(this.redis, this.key(incidentId), incidentId, ops);
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
    const pairs = Object.entries(fields).flat();
    // An existing record that does not parse is replaced (compare-and-replace on its checksum); if it
    // changed meanwhile, the new content is judged again.
    let unreadable = '';
    for (let i = 0; i < 5; i++) {
      const args = [String(INCIDENT_TTL_S), reclaim, unreadable, ...pairs];
      const res = (await this.redis.eval(CLAIM_SCRIPT, 1, this.key(input.incidentId), ...args)) as
        | [string, string[]]
        | null;
      if (!res) {
        await this.index(input.incidentId, Number(fields.createdAt), namesOf(input.target));
        return { claimed: true };
      }
      const read = readRecord(input.incidentId, pairsToObject(res[1]), this.log);
      if (read.status === 'ok') return { claimed: false, existing: read.record };
      unreadable = res[0];
    }
    throw new Error(`incident ${input.incidentId} keeps changing into records that do not parse`);
  }

  /** The incident's record, or null when none is stored or the stored one does not parse (logged once). */
  async get(incidentId: string): Promise<IncidentRecord | null> {
    const read = await this.read(incidentId);
    return read.status === 'ok' ? read.record : null;
  }

  /** Like {@link get}, telling a record that is not stored from one that does not parse. */
  async read(incidentId: string): Promise<RecordRead> {
    return readRecord(incidentId, await this.redis.hgetall(this.key(incidentId)), this.log);
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
    const ops: FieldOp[] = [['set', 'checkpoint', stage]];
    if (data.fixProposal) ops.push(['set', 'fixProposal', JSON.stringify(data.fixProposal)]);
    if (data.pin) ops.push(['set', 'pin', JSON.stringify(data.pin)]);
    if (data.collection) ops.push(['set', 'collection', JSON.stringify(data.collection)]);
    // Secrets never reach storage (gaps, refs and rule text are only as clean as their sources).
    if (data.report) ops.push(['set', 'report', JSON.stringify(redactDeep(data.report))]);
    if (data.error !== undefined) ops.push(['set', 'error', redact(data.error)]);
    if (stage === 'published') ops.push(['setnx', 'publishedAt', String(Date.now())], ['del', 'slackWait']);
    await this.update(incidentId, ops);
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
    await this.update(incidentId, [['set', 'rerun', JSON.stringify(RerunState.parse(state))]]);
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
    const set = await this.update(incidentId, [['setnx', 'dismissed', JSON.stringify(stamp)]]);
    if (set === 1) {
      await this.close(incidentId);
      return { dismissed: true, stamp };
    }
    const raw = await this.redis.hget(this.key(incidentId), 'dismissed');
    return { dismissed: false, stamp: raw ? Stamp.parse(JSON.parse(raw)) : stamp };
  }

  /**
   * Undoes a dismissal: the stamp goes, the incident is open again (`/heal status`) and its alerts are no
   * longer suppressed. Returns false when it was not dismissed.
   */
  async undismiss(incidentId: string): Promise<boolean> {
    const key = this.key(incidentId);
    const [createdAt, removed] = await this.redis.hmget(key, 'createdAt', 'dismissed');
    if (!removed) return false;
    await this.redis
      .multi()
      .hdel(key, 'dismissed')
      .zadd(`${this.prefix}:idx:open`, Number(createdAt) || Date.now(), incidentId)
      .del(`${this.prefix}:resolved:${incidentId}`)
      .exec();
    return true;
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
    await this.update(incidentId, [['set', 'parentTs', ts]]);
  }

  /** Keeps the recurrence badge as posted, so re-renders after a click show it too. */
  async setRecurrence(incidentId: string, view: RecurrenceView): Promise<void> {
    await this.update(incidentId, [['set', 'recurrence', JSON.stringify(view)]]);
  }

  async setPermalink(incidentId: string, permalink: string): Promise<void> {
    await this.update(incidentId, [['set', 'permalink', permalink]]);
  }

  async setRepliesPosted(incidentId: string, count: number): Promise<void> {
    await this.update(incidentId, [['set', 'repliesPosted', String(count)]]);
  }

  /** Records that the diagnosed thread waits for Slack (src/jobs/publish.ts); `/heal status` shows it. */
  async setSlackWait(incidentId: string, wait: SlackWait): Promise<void> {
    await this.update(incidentId, [['set', 'slackWait', JSON.stringify(wait)]]);
  }

  /** True the first time an Events API `event_id` is seen; Slack's retries of it get false. */
  async firstDelivery(eventId: string): Promise<boolean> {
    const res = await this.redis.set(`${this.prefix}:event:${eventId}`, '1', 'EX', EVENT_TTL_S, 'NX');
    return res === 'OK';
  }
}
