import type { Redis } from 'ioredis';
import { z } from 'zod';

/** One audited click (DESIGN.md §5): who, what, when, on which incident, and what came of it. */
export const AuditEntry = z.object({
  /** Slack user id of whoever clicked. */
  who: z.string().min(1),
  /** The action id (`heal_rerun`, `heal_dismiss`, …) or a worker step (`rerun.execute`). */
  what: z.string().min(1),
  /** Epoch ms. */
  when: z.coerce.number(),
  incident: z.string(),
  /** `accepted`, `refused`, `not_ready`, `confirm_asked`, `done`, `failed`, … */
  result: z.string().min(1),
  detail: z.string().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** Entries kept in the stream (approximate trim). */
const MAX_ENTRIES = 100_000;

/**
 * The audit log: one Redis stream under the queue prefix, appended for every click, including refusals.
 * Entries are never updated; read them back with {@link AuditLog.list}.
 */
export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  get key(): string {
    return `${this.prefix}:audit`;
  }

  /** Appends an entry; returns its stream id. */
  async record(entry: Omit<AuditEntry, 'when'> & { when?: number }): Promise<string> {
    const e = AuditEntry.parse({ ...entry, when: entry.when ?? Date.now() });
    const fields = Object.entries(e).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
    const id = await this.redis.xadd(this.key, 'MAXLEN', '~', String(MAX_ENTRIES), '*', ...fields);
    return id ?? '';
  }

  /** The newest entries first, optionally only those of one incident. */
  async list(opts: { incident?: string; count?: number } = {}): Promise<AuditEntry[]> {
    const count = opts.count ?? 100;
    const raw = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', opts.incident ? count * 20 : count);
    const out: AuditEntry[] = [];
    for (const [, flat] of raw) {
      const obj: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) obj[flat[i] as string] = flat[i + 1] as string;
      const parsed = AuditEntry.safeParse(obj);
      if (parsed.success && (!opts.incident || parsed.data.incident === opts.incident)) out.push(parsed.data);
      if (out.length >= count) break;
    }
    return out;
  }
}
