import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

/** How long a user group's member list is trusted before asking Slack again. */
const GROUP_TTL_MS = 60_000;

export type Approval = { ok: true; via: string } | { ok: false; why: string };

/**
 * HEAL_APPROVERS: Slack user ids (`U…`, `W…`) and user-group ids (`S…`, resolved with `usergroups.users.list`,
 * cached for a minute). A group Slack cannot resolve approves nobody.
 */
export class Approvers {
  private readonly cache = new Map<string, { members: Set<string>; until: number }>();

  constructor(
    private readonly ids: readonly string[],
    private readonly members: (usergroup: string) => Promise<string[]>,
    private readonly log: Logger,
  ) {}

  get configured(): boolean {
    return this.ids.length > 0;
  }

  async check(user: string): Promise<Approval> {
    if (this.ids.includes(user)) return { ok: true, via: user };
    for (const group of this.ids.filter((id) => id.startsWith('S'))) {
      const members = await this.groupMembers(group);
      if (members.has(user)) return { ok: true, via: group };
    }
    return { ok: false, why: this.configured ? 'not in HEAL_APPROVERS' : 'HEAL_APPROVERS is empty' };
  }

  private async groupMembers(group: string): Promise<Set<string>> {
    const hit = this.cache.get(group);
    if (hit && hit.until > Date.now()) return hit.members;
    try {
      const members = new Set(await this.members(group));
      this.cache.set(group, { members, until: Date.now() + GROUP_TTL_MS });
      return members;
    } catch (err) {
      this.log.warn({ group, err: errorMessage(err) }, 'could not resolve an approver user group');
      return new Set();
    }
  }
}
