/**
 * The incident record as stored in Redis (one hash per incident), how it is read back, and how fields are
 * written into it. A record that does not parse (Redis lost data and a worker of an older version wrote a
 * few fields into the vanished key, or a value is garbage) is reported once and treated as absent; fields
 * are only ever written into a hash that holds a claimed incident, so a vanished record is never
 * resurrected as a partial one (issue 13 item 8).
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Collection, PinResult } from '../adapters/types.ts';
import { PermanentError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { Pinned, Report } from '../core/report.ts';
import { Target } from '../core/target.ts';
import { FixProposalSchema } from './fix.ts';
import { FixState } from './fix-state.ts';
import { RecurrenceViewSchema } from './recurrence.ts';

/** How far an investigation got; each stage is stored before the next one starts. */
export const Checkpoint = z.enum(['claimed', 'pinned', 'collected', 'diagnosed', 'published', 'failed']);
export type Checkpoint = z.infer<typeof Checkpoint>;

/** A JSON-encoded field; text that is not JSON is an issue of the field, not an exception. */
const json = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
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

/** A diagnosed incident whose thread Slack keeps refusing (src/jobs/publish.ts); `/heal status` shows it. */
export const SlackWait = z.object({
  /** When Slack started failing this publish (epoch ms): the retry budget counts from here. */
  since: z.number(),
  /** Publish attempts failed since then. */
  attempts: z.number().int().min(1),
  /** When the next attempt is due (epoch ms). */
  nextAt: z.number(),
  /** Slack's error code of the last failure, e.g. `http_503`, `request_error`. */
  reason: z.string(),
});
export type SlackWait = z.infer<typeof SlackWait>;

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
  /** Set while the diagnosed thread waits for Slack to come back; cleared when published. */
  slackWait: json(SlackWait).optional(),
});
export type IncidentRecord = Omit<z.infer<typeof IncidentRecord>, 'pin' | 'collection'> & {
  pin?: PinResult;
  collection?: Collection;
};

/** A read of one incident: its record, nothing stored, or a hash that does not parse (treated as absent). */
export type RecordRead =
  | { status: 'ok'; record: IncidentRecord }
  | { status: 'absent' }
  | { status: 'unreadable'; issues: string[] };

let fallbackLog: Logger | undefined;
const reported = new Set<string>();

/**
 * Parses a stored hash. One that does not parse is logged once per process and incident (its id and the
 * zod issue paths and codes, never the values, which may hold log excerpts) and comes back `unreadable`.
 */
export function readRecord(incidentId: string, raw: Record<string, string>, log?: Logger): RecordRead {
  if (Object.keys(raw).length === 0) return { status: 'absent' };
  const parsed = IncidentRecord.safeParse(raw);
  if (parsed.success) return { status: 'ok', record: parsed.data as IncidentRecord };
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.code}`);
  if (!reported.has(incidentId)) {
    if (reported.size >= 10_000) reported.clear();
    reported.add(incidentId);
    fallbackLog ??= log ? undefined : createLogger('warn');
    (log ?? fallbackLog)?.warn(
      { incidentId, issues, fields: Object.keys(raw).sort() },
      'incident record unreadable (Redis lost data?): treated as absent',
    );
  }
  return { status: 'unreadable', issues };
}

/** A write found no claimed incident under the key: its record vanished (Redis lost data, or expired). */
export class IncidentGoneError extends PermanentError {
  constructor(readonly incidentId: string) {
    super(
      `incident ${incidentId} is no longer stored (Redis lost data, or it expired); ask again with /heal`,
    );
    this.name = 'IncidentGoneError';
  }
}

/** One field operation of {@link updateRecord}. */
export type FieldOp = ['set' | 'setnx', string, string] | ['del', string];

// KEYS[1] an incident hash; ARGV: op, field, value triples (op: set | setnx | del). Nothing is written unless
// the hash holds a claimed incident (every claim writes incidentId): 0 then, else 1 + the setnx that wrote.
const UPDATE_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'incidentId') == 0 then return 0 end
local n = 1
for i = 1, #ARGV, 3 do
  local op, f = ARGV[i], ARGV[i + 1]
  if op == 'set' then redis.call('HSET', KEYS[1], f, ARGV[i + 2])
  elseif op == 'setnx' then n = n + redis.call('HSETNX', KEYS[1], f, ARGV[i + 2])
  else redis.call('HDEL', KEYS[1], f) end
end
return n`;

/**
 * Applies `ops` atomically to the incident hash at `key`, only if it holds a claimed incident; throws
 * {@link IncidentGoneError} otherwise. Returns how many `setnx` wrote.
 */
export async function updateRecord(
  redis: Redis,
  key: string,
  incidentId: string,
  ops: FieldOp[],
): Promise<number> {
  const args = ops.flatMap((op) => (op[0] === 'del' ? ['del', op[1], ''] : op));
  const res = Number(await redis.eval(UPDATE_SCRIPT, 1, key, ...args));
  if (res === 0) throw new IncidentGoneError(incidentId);
  return res - 1;
}
