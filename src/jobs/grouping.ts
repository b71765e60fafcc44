import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { incidentId as incidentIdOf } from '../core/incident.ts';
import { describeTarget, Target } from '../core/target.ts';
import { fitMessage } from '../report/limits.ts';
import { context, section, untrusted } from '../report/mrkdwn.ts';
import type { SlackMessage } from '../report/types.ts';
import type { IncidentRecord, IncidentStore } from './incidents.ts';

/** The BullMQ queue of intake housekeeping: group counters, silent-failure monitors, the digest. */
export const INTAKE_QUEUE = 'intake';

export function createIntakeQueue(connection: Redis, prefix: string): Queue {
  return new Queue(INTAKE_QUEUE, { connection, prefix });
}

/**
 * The grouping key: one failure however it is reported. An Airflow DAG run (a task-level alert and a
 * DAG-level `/heal` land together: the investigation walks the run's task graph anyway), a dbt Cloud run or
 * a dbt target dir, a Spark application (all attempts).
 */
export function groupKey(t: Target): string {
  switch (t.platform) {
    case 'airflow':
      return `airflow:${t.dagId}:${t.runId ?? `@${t.logicalDate}`}`;
    case 'spark':
      return `spark:${t.appId}`;
    case 'dbt':
      return `dbt:${t.cloudRunId ? `cloud:${t.cloudRunId}` : `path:${t.path ?? ''}`}`;
  }
}

/** `grp_` + 16 hex chars of sha256(groupKey); also the BullMQ job id of the group's counter update. */
export function groupId(t: Target): string {
  return `grp_${createHash('sha256').update(groupKey(t)).digest('hex').slice(0, 16)}`;
}

/** What one report (alert message, webhook, `/heal`) is part of. */
export interface IntakeInput {
  target: Target;
  channel: string;
  threadTs?: string;
  requestedBy?: string;
  source: 'command' | 'alert';
  /** How it came in, e.g. `alert message`, `webhook airflow`, `/heal`. */
  via: string;
  /** A short label of what this report named (task, model…), shown in the counter message. */
  label?: string;
}

export type IntakeResult =
  | { kind: 'started'; incidentId: string; groupId: string; target: Target; count: number }
  | { kind: 'joined'; incidentId: string; groupId: string; existing: IncidentRecord; count: number }
  | { kind: 'suppressed'; incidentId: string; groupId: string; resolvedAt: number; count: number };

// Creates the group on first sight (its incident = the first report's incident), then counts the report.
const GROUP_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'incidentId') == 0 then
  redis.call('HSET', KEYS[1], 'incidentId', ARGV[1], 'target', ARGV[2], 'firstAt', ARGV[3])
end
local n = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'lastAt', ARGV[3])
redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return {redis.call('HGET', KEYS[1], 'incidentId'), redis.call('HGET', KEYS[1], 'target'), n}`;

const GROUP_TTL_S = 30 * 24 * 3600;

/** A group's state as the counter message shows it. */
export interface GroupState {
  groupId: string;
  incidentId: string;
  target: Target;
  count: number;
  firstAt: number;
  lastAt: number;
  /** What the reports named and how often (`via · label`). */
  members: Array<{ name: string; count: number }>;
  summaryTs?: string;
}

/** Groups every report of one failure into one incident; resolved incidents suppress their alerts. */
export class AlertGroups {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly incidents: IncidentStore,
    private readonly opts: { suppressMs: number },
  ) {}

  private key(gid: string): string {
    return `${this.prefix}:group:${gid}`;
  }

  /** Counts the report into its group, then claims (or joins) the group's incident. */
  async intake(input: IntakeInput): Promise<IntakeResult> {
    const gid = groupId(input.target);
    const member = `${input.via}${input.label ? ` · ${input.label}` : ''}`.slice(0, 200);
    const [incidentId, rawTarget, count] = (await this.redis.eval(
      GROUP_SCRIPT,
      2,
      this.key(gid),
      `${this.key(gid)}:members`,
      incidentIdOf(input.target),
      JSON.stringify(input.target),
      String(Date.now()),
      member,
      String(GROUP_TTL_S),
    )) as [string, string, number];
    const target = Target.parse(JSON.parse(rawTarget));
    const resolvedAt = await this.incidents.resolvedAt(incidentId);
    if (input.source === 'alert' && resolvedAt && Date.now() - resolvedAt < this.opts.suppressMs)
      return { kind: 'suppressed', incidentId, groupId: gid, resolvedAt, count };
    const claim = await this.incidents.claim({
      incidentId,
      target,
      channel: input.channel,
      source: input.source,
      reclaimFailed: input.source !== 'alert',
      ...(input.threadTs ? { threadTs: input.threadTs } : {}),
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    });
    if (claim.claimed) return { kind: 'started', incidentId, groupId: gid, target, count };
    return { kind: 'joined', incidentId, groupId: gid, existing: claim.existing, count };
  }

  async state(gid: string): Promise<GroupState | null> {
    const raw = await this.redis.hgetall(this.key(gid));
    if (!raw.incidentId || !raw.target) return null;
    const counts = await this.redis.hgetall(`${this.key(gid)}:members`);
    const members = Object.entries(counts)
      .map(([name, n]) => ({ name, count: Number(n) }))
      .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    return {
      groupId: gid,
      incidentId: raw.incidentId,
      target: Target.parse(JSON.parse(raw.target)),
      count: Number(raw.count ?? 0),
      firstAt: Number(raw.firstAt ?? 0),
      lastAt: Number(raw.lastAt ?? 0),
      members,
      ...(raw.summaryTs ? { summaryTs: raw.summaryTs } : {}),
    };
  }

  async setSummaryTs(gid: string, ts: string): Promise<void> {
    await this.redis.hset(this.key(gid), 'summaryTs', ts);
  }
}

/**
 * Schedules the group's counter update, debounced: a storm of reports within `delayMs` becomes one Slack
 * call (a job already waiting absorbs the new reports).
 */
export async function scheduleGroupSummary(queue: Queue, gid: string, delayMs: number): Promise<void> {
  // One job per group and time bucket: it runs once its bucket is over, so every report counted in the
  // bucket is shown and a report arriving while the job runs lands in the next bucket's job.
  const now = Date.now();
  const bucket = Math.floor(now / delayMs);
  await queue.add(
    'group-summary',
    { groupId: gid },
    {
      jobId: `${gid}_${bucket}`,
      delay: (bucket + 1) * delayMs - now + 50,
      attempts: 8,
      backoff: { type: 'fixed', delay: 2_000 },
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
    },
  );
}

const MAX_MEMBERS_SHOWN = 15;

/** The counter message in the incident's thread: how many reports were grouped here, and what they named. */
export function renderGroupSummary(g: GroupState): SlackMessage {
  const shown = g.members.slice(0, MAX_MEMBERS_SHOWN).map((m) => `• ${untrusted(m.name, 200)} ×${m.count}`);
  const more = g.members.length - shown.length;
  if (more > 0) shown.push(`_… and ${more} more_`);
  const head = `:link: *${g.count} alerts grouped into this incident* (${untrusted(describeTarget(g.target), 300)}); one investigation runs for all of them.`;
  const window = `first ${new Date(g.firstAt).toISOString()} · last ${new Date(g.lastAt).toISOString()}`;
  return fitMessage({
    text: `${g.count} alerts grouped into ${g.incidentId}`,
    blocks: [section(`${head}\n${shown.join('\n')}`, 'heal_group'), context([window], 'heal_group_window')],
  });
}

/** What the counter job needs: the group and incident state and the Slack calls. */
export interface SummaryDeps {
  groups: AlertGroups;
  incidents: IncidentStore;
  publisher: {
    postMessage(channel: string, msg: SlackMessage, threadTs?: string): Promise<string>;
    update(channel: string, ts: string, msg: SlackMessage): Promise<unknown>;
  };
}

/**
 * Posts the group's counter message in the incident's thread once, then updates it in place. Throws (the
 * job retries) while the incident's thread does not exist yet.
 */
export async function postGroupSummary(deps: SummaryDeps, gid: string): Promise<string> {
  const g = await deps.groups.state(gid);
  if (!g || g.count < 2) return 'nothing to show';
  const rec = await deps.incidents.get(g.incidentId);
  const threadTs = rec?.threadTs ?? rec?.parentTs;
  if (!rec || !threadTs) throw new Error(`incident ${g.incidentId} has no thread yet`);
  const msg = renderGroupSummary(g);
  if (g.summaryTs) {
    await deps.publisher.update(rec.channel, g.summaryTs, msg);
    return 'updated';
  }
  const ts = await deps.publisher.postMessage(rec.channel, msg, threadTs);
  await deps.groups.setSummaryTs(gid, ts);
  return 'posted';
}
