import type { App } from '@slack/bolt';
import { z } from 'zod';
import { errorMessage, publicReason } from '../../core/errors.ts';
import { fixJobId } from '../../jobs/fix.ts';
import type { IncidentRecord } from '../../jobs/incidents.ts';
import { ACTION_IDS, mention, when } from '../../report/actions.ts';
import { renderAlreadyActed, renderRefusal, renderWrongOrigin } from '../../report/ephemeral.ts';
import { renderFixModal } from '../../report/fix-modal.ts';
import { renderNoFixToApprove } from '../../report/fix-replies.ts';
import type { BotDeps } from '../deps.ts';
import { Approvers } from './approvers.ts';
import { audit, type Click, clickMatchesIncident, parseClick, tell } from './click.ts';

const Trigger = z.object({ trigger_id: z.string().min(1) });

/** Why this incident's fix cannot be approved now (answered ephemerally and audited), or undefined. */
export function fixObstacle(rec: IncidentRecord | null): { result: string; why: string } | undefined {
  if (!rec?.report) return { result: 'not_ready', why: 'this incident has no stored diagnosis yet.' };
  if (!rec.fixProposal)
    return { result: 'no_fix', why: 'Heal proposed no change for this incident (see “What to do next”).' };
  if (rec.dismissed) return { result: 'already_dismissed', why: 'the incident was dismissed.' };
  return undefined;
}

/** The fix someone already approved (not one that ended in `error`), as one line. */
export function alreadyApproved(rec: IncidentRecord): string | undefined {
  const f = rec.fix;
  if (!f || f.status === 'error') return undefined;
  return `${mention(f.by)} approved the fix ${when(f.at)}${f.url ? `: <${f.url}|pull request>` : ''}`;
}

/**
 * An Approve fix click: approvers only (refused and audited otherwise), a stored proposal, nobody approved it
 * yet; then the modal with the diff and the determinism table opens (`views.open`). Submitting it is the
 * approval (src/bot/listeners/fix-submit.ts).
 */
export async function handleApproveFix(
  deps: BotDeps,
  approvers: Approvers,
  click: Click,
  triggerId?: string,
) {
  const auth = await approvers.check(click.user);
  if (!auth.ok) {
    await audit(deps, click, 'refused', auth.why);
    return tell(deps, click, renderRefusal('approve', approvers.configured));
  }
  const rec = click.incidentId ? await deps.incidents.get(click.incidentId) : null;
  if (rec && !clickMatchesIncident(click, rec)) {
    await audit(deps, click, 'refused', `click from ${click.channel ?? '?'}/${click.messageTs ?? '?'}`);
    return tell(deps, click, renderWrongOrigin());
  }
  const stop = fixObstacle(rec);
  if (stop || !rec?.fixProposal) {
    await audit(deps, click, stop?.result ?? 'no_fix');
    return tell(deps, click, renderNoFixToApprove(stop?.why ?? 'no proposal.'));
  }
  const done = alreadyApproved(rec);
  if (done) {
    await audit(deps, click, 'duplicate');
    return tell(deps, click, renderAlreadyActed(done));
  }
  if (!triggerId || !deps.slack.openView) {
    await audit(deps, click, 'error', 'no trigger_id or views.open');
    return tell(deps, click, renderNoFixToApprove('Slack gave no way to open the approval dialog.'));
  }
  const p = rec.fixProposal;
  const threadTs = rec.threadTs ?? rec.parentTs;
  const view = renderFixModal(p, {
    incidentId: rec.incidentId,
    jobId: fixJobId(p),
    channel: rec.channel,
    ...(threadTs ? { threadTs } : {}),
  });
  await deps.slack.openView(triggerId, view);
  await audit(deps, click, 'modal_opened', `approver via ${auth.via}`);
}

/** `heal_approve_fix` on the thread parent: ack at once, then decide and (maybe) open the modal. */
export function registerApproveFix(app: App, deps: BotDeps): void {
  const approvers = new Approvers(
    deps.config.HEAL_APPROVERS,
    (g) => deps.slack.usergroupMembers(g),
    deps.log,
  );
  app.action(ACTION_IDS.approveFix, async ({ ack, body }) => {
    await ack();
    const click = parseClick(body);
    if (!click) return deps.log.warn('approve-fix click with an unexpected payload shape');
    const trigger = Trigger.safeParse(body);
    try {
      await handleApproveFix(deps, approvers, click, trigger.success ? trigger.data.trigger_id : undefined);
    } catch (err) {
      deps.log.error({ err: errorMessage(err), incidentId: click.incidentId }, 'approve-fix click failed');
      await audit(deps, click, 'error', errorMessage(err)).catch(() => undefined);
      await tell(
        deps,
        click,
        renderNoFixToApprove(`Heal could not open the dialog: ${publicReason(err)}`),
      ).catch(() => undefined);
    }
  });
}
