/**
 * The approved fix's state on the incident (claimed once, like a rerun) and the escalation flags (a fix
 * waiting too long for approval, a recurring failure), so a restarted job never says either twice.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { IncidentStore } from './incidents.ts';

/** Where an approved fix stands: queued, pull request opened, or it did not happen. */
export const FixState = z.object({
  by: z.string().min(1),
  at: z.number(),
  status: z.enum(['requested', 'opened', 'error']),
  jobId: z.string().optional(),
  branch: z.string().optional(),
  url: z.string().optional(),
  /** Why it did not happen (plain words), or what was done. */
  summary: z.string().optional(),
});
export type FixState = z.infer<typeof FixState>;

// The incident's one fix: claimed unless one exists that did not end in `error`.
const CLAIM_FIX_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'incidentId') == 0 then return redis.error_reply('no such incident') end
local cur = redis.call('HGET', KEYS[1], 'fix')
if cur and cjson.decode(cur).status ~= 'error' then return cur end
redis.call('HSET', KEYS[1], 'fix', ARGV[1])
return false`;

export class FixStore {
  constructor(
    private readonly redis: Redis,
    /** Writes go through `update`: nothing is written into an incident whose record vanished. */
    private readonly incidents: Pick<IncidentStore, 'key' | 'update'>,
  ) {}

  /** Claims the incident's one fix for `by` (atomic); an existing fix that did not end in `error` wins. */
  async claim(incidentId: string, state: FixState): Promise<{ claimed: boolean; existing?: FixState }> {
    const json = JSON.stringify(FixState.parse(state));
    const key = this.incidents.key(incidentId);
    const res = (await this.redis.eval(CLAIM_FIX_SCRIPT, 1, key, json)) as string | null;
    if (!res) return { claimed: true };
    return { claimed: false, existing: FixState.parse(JSON.parse(res)) };
  }

  async set(incidentId: string, state: FixState): Promise<void> {
    await this.incidents.update(incidentId, [['set', 'fix', JSON.stringify(FixState.parse(state))]]);
  }

  /** True the first time this incident escalates for `why` (a restarted job does not say it twice). */
  async firstEscalation(incidentId: string, why: 'timeout' | 'recurrence'): Promise<boolean> {
    const set = await this.incidents.update(incidentId, [['setnx', `escalated_${why}`, String(Date.now())]]);
    return set === 1;
  }
}
