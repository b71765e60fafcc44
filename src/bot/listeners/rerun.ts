import type { App } from '@slack/bolt';
import { errorMessage, publicReason } from '../../core/errors.ts';
import type { IncidentRecord } from '../../jobs/incidents.ts';
import { rerunCapability } from '../../jobs/remediate.ts';
import { rerunView } from '../../jobs/views.ts';
import { ACTION_IDS, isTransient, likelyFailsAgain, mention, when } from '../../report/actions.ts';
import {
  renderAlreadyActed,
  renderNoRerunPath,
  renderNotReady,
  renderRefusal,
  renderRerunConfirm,
  renderWrongOrigin,
} from '../../report/ephemeral.ts';
import type { BotDeps } from '../deps.ts';
import { Approvers } from './approvers.ts';
import { audit, type Click, clickMatchesIncident, parseClick, refreshParent, tell } from './click.ts';

type Diagnosed = IncidentRecord & { report: NonNullable<IncidentRecord['report']> };

/** Evidence first (DESIGN.md §6.1): a rerun only once the report (the evidence snapshot) is stored. */
function diagnosed(rec: IncidentRecord): rec is Diagnosed {
  return Boolean(rec.pin && rec.report && (rec.checkpoint === 'diagnosed' || rec.checkpoint === 'published'));
}

/** Why this click does not lead to a rerun (answered ephemerally and audited), or undefined to go ahead. */
function obstacle(rec: Diagnosed, confirmed: boolean) {
  if (rec.dismissed) {
    const line = `${mention(rec.dismissed.by)} dismissed this incident ${when(rec.dismissed.at)}`;
    return { result: 'already_dismissed', msg: renderAlreadyActed(line) };
  }
  if (rec.rerun && rec.rerun.status !== 'error') {
    const v = rerunView(rec.rerun);
    const line = `${mention(v.by)} asked for a rerun ${when(v.at)} (${v.status})`;
    return { result: 'duplicate', msg: renderAlreadyActed(line) };
  }
  const target = rec.pin?.target ?? rec.target;
  const supported = rerunCapability(target.platform)?.supports(target);
  if (!supported?.ok) {
    const why = supported?.why ?? `Heal has no rerun for ${target.platform}`;
    return { result: 'no_rerun_path', msg: renderNoRerunPath(why) };
  }
  if (!confirmed && !isTransient(rec.report))
    return {
      result: 'confirm_asked',
      msg: renderRerunConfirm(rec.incidentId, likelyFailsAgain(rec.report), supported.what),
    };
  return undefined;
}

/**
 * A Rerun click (or "Rerun anyway"): approvers only (anyone else gets an ephemeral refusal), evidence stored,
 * a rerun path, confirmation when the cause is not transient; then the rerun is claimed once and queued.
 * Every outcome is audited. The web process makes no platform call.
 */
export async function handleRerun(deps: BotDeps, approvers: Approvers, click: Click): Promise<void> {
  const confirmed = click.action === ACTION_IDS.rerunConfirm;
  const auth = await approvers.check(click.user);
  if (!auth.ok) {
    await audit(deps, click, 'refused', auth.why);
    return tell(deps, click, renderRefusal('rerun', approvers.configured));
  }
  const rec = click.incidentId ? await deps.incidents.get(click.incidentId) : null;
  if (rec && !clickMatchesIncident(click, rec)) {
    await audit(deps, click, 'refused', `click from ${click.channel ?? '?'}/${click.messageTs ?? '?'}`);
    return tell(deps, click, renderWrongOrigin());
  }
  if (!rec || !diagnosed(rec)) {
    await audit(deps, click, 'not_ready', rec ? rec.checkpoint : 'unknown incident');
    return tell(deps, click, renderNotReady(click.incidentId ?? 'this incident'));
  }
  const stop = obstacle(rec, confirmed);
  if (stop) {
    await audit(deps, click, stop.result);
    return tell(deps, click, stop.msg);
  }
  const at = Date.now();
  const claim = await deps.incidents.claimRerun(rec.incidentId, click.user, at);
  if (!claim.claimed) {
    await audit(deps, click, 'duplicate');
    return tell(deps, click, renderAlreadyActed('a rerun is already under way'));
  }
  await deps.enqueueRemediate({ kind: 'rerun', incidentId: rec.incidentId, user: click.user, at });
  await audit(deps, click, 'accepted', `approved via ${auth.via}`);
  await refreshParent(deps, rec.incidentId).catch((err) =>
    deps.log.warn({ err: errorMessage(err) }, 'could not update the thread parent'),
  );
}

/** Shared by the Rerun and "Rerun anyway" listeners: ack first, then decide. */
export function rerunListener(deps: BotDeps) {
  const approvers = new Approvers(
    deps.config.HEAL_APPROVERS,
    (g) => deps.slack.usergroupMembers(g),
    deps.log,
  );
  return async ({ ack, body }: { ack: () => Promise<void>; body: unknown }) => {
    await ack();
    const click = parseClick(body);
    if (!click) return deps.log.warn('rerun click with an unexpected payload shape');
    try {
      await handleRerun(deps, approvers, click);
    } catch (err) {
      deps.log.error({ err: errorMessage(err), incidentId: click.incidentId }, 'rerun click failed');
      await audit(deps, click, 'error', errorMessage(err)).catch(() => undefined);
      await tell(
        deps,
        click,
        renderNoRerunPath(`Heal could not queue the rerun: ${publicReason(err)}`),
      ).catch(() => undefined);
    }
  };
}

/** `heal_rerun` on the thread parent. */
export function registerRerun(app: App, deps: BotDeps): void {
  app.action(ACTION_IDS.rerun, rerunListener(deps));
}
