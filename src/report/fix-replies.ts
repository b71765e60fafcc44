/**
 * Thread replies and ephemerals of the approve-fix flow (pure): the pull request opened, the fix that did
 * not happen (and whether anything was pushed), and the escalations that mention the on-call group.
 */

import { mention, when } from './actions.ts';
import { escapeMrkdwn, fitMessage } from './limits.ts';
import { plainError, section, untrusted } from './mrkdwn.ts';
import type { SlackMessage } from './types.ts';

/** What the fix job reports back (src/jobs/fix.ts FixJobResult). */
export interface FixOpened {
  branch: string;
  baseSha: string;
  fixSha: string;
  testSha: string | null;
  pullRequest: { number: number; url: string };
  repo: string;
}

/** `<!subteam^S…>` for a user group, `<@U…>` for a user, or a note that none is configured. */
export function oncallMention(group: string | undefined): string {
  if (!group) return 'no on-call group is configured (`HEAL_ONCALL_GROUP`)';
  return group.startsWith('S') ? `<!subteam^${group}>` : mention(group);
}

const short = (sha: string) => `\`${sha.slice(0, 12)}\``;

/** Thread reply: the branch, its commits and the pull request; the rerun on the branch is best-effort. */
export function renderFixOpened(o: FixOpened, by: string): SlackMessage {
  const commits = [`fix ${short(o.fixSha)}`, ...(o.testSha ? [`test ${short(o.testSha)}`] : [])].join(', ');
  const lines = [
    `:hammer_and_wrench: *Pull request opened:* <${o.pullRequest.url}|${escapeMrkdwn(o.repo)}#${o.pullRequest.number}> (approved by ${mention(by)})`,
    `Branch \`${untrusted(o.branch, 120)}\` from ${short(o.baseSha)}: ${commits}. Nothing was pushed to the default branch; merging is up to you.`,
    ':information_source: Verify: Heal does not run the pipeline on the branch here; check the pull request’s CI. A rerun after merging is best-effort.',
  ];
  return fitMessage({
    text: untrusted(`Heal opened a pull request: ${o.pullRequest.url}`, 500),
    blocks: [section(lines.join('\n'), 'heal_fix_opened')],
  });
}

/** Thread reply: the approved fix did not happen. The job's message says what (if anything) was pushed. */
export function renderFixFailed(message: string, by: string): SlackMessage {
  const pushed = /\bwas pushed\b/.test(message) && !/nothing was pushed/i.test(message);
  const tail = pushed ? '' : /nothing was pushed/i.test(message) ? '' : ' Nothing was pushed.';
  const text = `:warning: *The fix ${mention(by)} approved did not happen:* ${plainError(message, 1500)}${tail}`;
  return fitMessage({ text: 'Heal: the fix did not happen', blocks: [section(text, 'heal_fix_failed')] });
}

/** Thread reply: a proposed fix has waited longer than HEAL_FIX_APPROVAL_TIMEOUT_MS. */
export function renderFixTimeout(
  oncall: string | undefined,
  proposedAt: number,
  waitedMs: number,
): SlackMessage {
  const hours =
    waitedMs >= 3600_000
      ? `${Math.round(waitedMs / 360_000) / 10} h`
      : `${Math.round(waitedMs / 60_000)} min`;
  const text = `:rotating_light: *Escalation:* the fix proposed ${when(proposedAt)} has not been approved within ${hours}. ${oncallMention(oncall)}: please review it (*Approve fix* on the thread parent) or dismiss the incident.`;
  return fitMessage({
    text: 'Heal: a proposed fix is waiting for approval',
    blocks: [section(text, 'heal_escalation_timeout')],
  });
}

/** Thread reply: the same failure signature recurred (the count comes from src/jobs/recurrence.ts). */
export function renderRecurrenceEscalation(
  oncall: string | undefined,
  seen: number,
  windowDays: number,
): SlackMessage {
  const text = `:rotating_light: *Escalation:* this failure has the same signature as ${seen - 1} other incident${seen === 2 ? '' : 's'} in the last ${windowDays} days (${seen} in all). ${oncallMention(oncall)}: it needs a permanent fix, not another rerun.`;
  return fitMessage({
    text: 'Heal: a recurring failure',
    blocks: [section(text, 'heal_escalation_recurrence')],
  });
}

/** Ephemeral: there is nothing to approve (no stored proposal, or it changed since the modal opened). */
export function renderNoFixToApprove(why: string): SlackMessage {
  const text = `:no_entry_sign: Nothing to approve: ${untrusted(why, 600)} Nothing was changed.`;
  return fitMessage({ text: 'Heal: no fix to approve', blocks: [section(text, 'heal_no_fix')] });
}
