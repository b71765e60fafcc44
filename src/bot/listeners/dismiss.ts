import type { App } from '@slack/bolt';
import { errorMessage } from '../../core/errors.ts';
import type { IncidentRecord } from '../../jobs/incidents.ts';
import { ACTION_IDS, mention, when } from '../../report/actions.ts';
import {
  renderAlreadyActed,
  renderDismissRefusal,
  renderNotReady,
  renderWrongOrigin,
} from '../../report/ephemeral.ts';
import type { BotDeps } from '../deps.ts';
import { Approvers } from './approvers.ts';
import { audit, type Click, clickMatchesIncident, parseClick, refreshParent, tell } from './click.ts';

/**
 * Who may dismiss (HEAL_DISMISSERS, docs/security.md): `approvers` (default) — users and groups in
 * HEAL_APPROVERS; `channel` — anyone clicking in the incident's own channel (Slack signs the click and only
 * shows the button to people who can read that channel). The dismisser may always undo their own dismissal.
 */
async function mayDismiss(
  deps: BotDeps,
  approvers: Approvers,
  click: Click,
): Promise<{ ok: true; via: string } | { ok: false; why: string }> {
  if (deps.config.HEAL_DISMISSERS === 'channel') return { ok: true, via: 'channel member' };
  return approvers.check(click.user);
}

/** The incident of a click, when it exists, is diagnosed and the click came from its own thread parent. */
async function incidentOf(deps: BotDeps, click: Click): Promise<IncidentRecord | undefined> {
  const rec = click.incidentId ? await deps.incidents.get(click.incidentId) : null;
  if (!rec?.report) {
    await audit(deps, click, 'not_ready');
    await tell(deps, click, renderNotReady(click.incidentId ?? 'this incident'));
    return undefined;
  }
  if (!clickMatchesIncident(click, rec)) {
    await audit(deps, click, 'refused', `click from ${click.channel ?? '?'}/${click.messageTs ?? '?'}`);
    await tell(deps, click, renderWrongOrigin());
    return undefined;
  }
  return rec;
}

/**
 * Dismiss: only those HEAL_DISMISSERS allows, only from the incident's own thread parent; first click wins,
 * the incident leaves `/heal status` (its alerts are suppressed for HEAL_SUPPRESS_MS), the buttons give way to
 * who and when plus Undo. Every outcome is audited.
 */
export async function handleDismiss(deps: BotDeps, approvers: Approvers, click: Click): Promise<void> {
  const rec = await incidentOf(deps, click);
  if (!rec) return;
  const auth = await mayDismiss(deps, approvers, click);
  if (!auth.ok) {
    await audit(deps, click, 'refused', auth.why);
    return tell(deps, click, renderDismissRefusal(approvers.configured));
  }
  const res = await deps.incidents.dismiss(rec.incidentId, click.user, Date.now());
  if (!res.dismissed) {
    await audit(deps, click, 'duplicate');
    const line = `${mention(res.stamp.by)} dismissed this incident ${when(res.stamp.at)}`;
    return tell(deps, click, renderAlreadyActed(line));
  }
  await audit(deps, click, 'done', `dismissed via ${auth.via}`);
  await refreshParent(deps, rec.incidentId);
}

/** Undo a dismissal: the dismisser, or anyone who may dismiss; the incident is open again, alerts flow again. */
export async function handleUndismiss(deps: BotDeps, approvers: Approvers, click: Click): Promise<void> {
  const rec = await incidentOf(deps, click);
  if (!rec) return;
  if (!rec.dismissed) {
    await audit(deps, click, 'not_dismissed');
    return tell(deps, click, renderAlreadyActed('this incident is not dismissed'));
  }
  const own = rec.dismissed.by === click.user;
  const auth = own ? { ok: true as const, via: 'own dismissal' } : await mayDismiss(deps, approvers, click);
  if (!auth.ok) {
    await audit(deps, click, 'refused', auth.why);
    return tell(deps, click, renderDismissRefusal(approvers.configured));
  }
  await deps.incidents.undismiss(rec.incidentId);
  await audit(deps, click, 'done', `undid ${rec.dismissed.by}'s dismissal via ${auth.via}`);
  await refreshParent(deps, rec.incidentId);
}

function listener(deps: BotDeps, handle: typeof handleDismiss) {
  const approvers = new Approvers(
    deps.config.HEAL_APPROVERS,
    (g) => deps.slack.usergroupMembers(g),
    deps.log,
  );
  return async ({ ack, body }: { ack: () => Promise<void>; body: unknown }) => {
    await ack();
    const click = parseClick(body);
    if (!click) return;
    await handle(deps, approvers, click).catch((err) =>
      deps.log.error({ err: errorMessage(err), incidentId: click.incidentId }, `${click.action} failed`),
    );
  };
}

/** `heal_dismiss` and `heal_undismiss`. */
export function registerDismiss(app: App, deps: BotDeps): void {
  app.action(ACTION_IDS.dismiss, listener(deps, handleDismiss));
  app.action(ACTION_IDS.undismiss, listener(deps, handleUndismiss));
}
