import type { App } from '@slack/bolt';
import { z } from 'zod';
import { errorMessage, publicReason } from '../../core/errors.ts';
import { fixJobId } from '../../jobs/fix.ts';
import { ACTION_IDS } from '../../report/actions.ts';
import { renderAlreadyActed, renderRefusal } from '../../report/ephemeral.ts';
import { FIX_MODAL_CALLBACK } from '../../report/fix-modal.ts';
import { renderNoFixToApprove } from '../../report/fix-replies.ts';
import type { BotDeps } from '../deps.ts';
import { alreadyApproved, fixObstacle } from './approve-fix.ts';
import { Approvers } from './approvers.ts';
import { audit, type Click, refreshParent, tell } from './click.ts';

/** The fields of a `view_submission` payload (corpus ViewSubmissionPayload.json) the handler reads. */
const ViewSubmission = z.object({
  user: z.object({ id: z.string().min(1) }),
  view: z.object({ callback_id: z.literal(FIX_MODAL_CALLBACK), private_metadata: z.string() }),
});

/** What renderFixModal put in private_metadata (FixModalMetadata). */
const Metadata = z.object({
  incidentId: z.string().regex(/^inc_[0-9a-z]+$/),
  jobId: z.string().min(1),
  channel: z.string().min(1).optional(),
  threadTs: z.string().min(1).optional(),
});

/** A submission as a click (so audit/tell apply), plus the job id the modal was opened for. */
export type SubmitClick = Click & { jobId: string };

/** Parses a submission; undefined for another view or unreadable metadata. */
export function parseSubmission(body: unknown): SubmitClick | undefined {
  const p = ViewSubmission.safeParse(body);
  if (!p.success) return undefined;
  let meta: z.infer<typeof Metadata>;
  try {
    meta = Metadata.parse(JSON.parse(p.data.view.private_metadata));
  } catch {
    return undefined;
  }
  return {
    user: p.data.user.id,
    action: `${ACTION_IDS.approveFix}.submit`,
    incidentId: meta.incidentId,
    channel: meta.channel,
    threadTs: meta.threadTs,
    messageTs: undefined,
    // A modal submission has no message; its channel comes from Heal's own private_metadata.
    ephemeral: true,
    jobId: meta.jobId,
  };
}

/**
 * The approval: the approver is checked again, the stored proposal must still be the one the modal showed
 * (its fixJobId), the fix is claimed once, and the `fix` job is enqueued. Every outcome is audited.
 */
export async function handleFixSubmit(deps: BotDeps, approvers: Approvers, click: SubmitClick) {
  const auth = await approvers.check(click.user);
  if (!auth.ok) {
    await audit(deps, click, 'refused', auth.why);
    return tell(deps, click, renderRefusal('approve', approvers.configured));
  }
  const rec = click.incidentId ? await deps.incidents.get(click.incidentId) : null;
  const stop = fixObstacle(rec);
  if (stop || !rec?.fixProposal || !rec.report) {
    await audit(deps, click, stop?.result ?? 'no_fix');
    return tell(deps, click, renderNoFixToApprove(stop?.why ?? 'no proposal.'));
  }
  const p = rec.fixProposal;
  if (fixJobId(p) !== click.jobId) {
    await audit(deps, click, 'stale', `modal ${click.jobId}, stored ${fixJobId(p)}`);
    return tell(
      deps,
      click,
      renderNoFixToApprove('the proposal changed since the dialog opened; open it again.'),
    );
  }
  if (!deps.enqueueFix || !deps.fixes) throw new Error('the fix queue is not configured in this process');
  const at = Date.now();
  const claim = await deps.fixes.claim(rec.incidentId, {
    by: click.user,
    at,
    status: 'requested',
    jobId: click.jobId,
  });
  if (!claim.claimed) {
    await audit(deps, click, 'duplicate');
    return tell(
      deps,
      click,
      renderAlreadyActed(alreadyApproved({ ...rec, fix: claim.existing }) ?? 'already approved'),
    );
  }
  const threadTs = rec.threadTs ?? rec.parentTs;
  await deps.enqueueFix({
    proposal: p,
    report: rec.report,
    approvedBy: click.user,
    channel: rec.channel,
    ...(threadTs ? { threadTs } : {}),
  });
  await audit(deps, click, 'accepted', `approved via ${auth.via}; job ${click.jobId}`);
  await refreshParent(deps, rec.incidentId).catch((err) =>
    deps.log.warn({ err: errorMessage(err) }, 'could not update the thread parent'),
  );
}

/** view_submission of the approve-fix modal: ack (closes it) at once, then approve. */
export function registerFixSubmit(app: App, deps: BotDeps): void {
  const approvers = new Approvers(
    deps.config.HEAL_APPROVERS,
    (g) => deps.slack.usergroupMembers(g),
    deps.log,
  );
  app.view(FIX_MODAL_CALLBACK, async ({ ack, body }) => {
    await ack();
    const click = parseSubmission(body);
    if (!click) return deps.log.warn('fix submission with an unexpected payload shape');
    try {
      await handleFixSubmit(deps, approvers, click);
    } catch (err) {
      deps.log.error({ err: errorMessage(err), incidentId: click.incidentId }, 'fix submission failed');
      await audit(deps, click, 'error', errorMessage(err)).catch(() => undefined);
      await tell(
        deps,
        click,
        renderNoFixToApprove(`Heal could not queue the fix: ${publicReason(err)}`),
      ).catch(() => undefined);
    }
  });
}
