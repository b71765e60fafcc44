import type { App } from '@slack/bolt';
import { errorMessage } from '../../core/errors.ts';
import { ACTION_IDS, mention, when } from '../../report/actions.ts';
import { renderAlreadyActed, renderNotReady } from '../../report/ephemeral.ts';
import type { BotDeps } from '../deps.ts';
import { audit, type Click, parseClick, refreshParent, tell } from './click.ts';

/** Dismiss: first click wins, the incident leaves `/heal status`, the buttons give way to who and when. */
export async function handleDismiss(deps: BotDeps, click: Click): Promise<void> {
  const rec = click.incidentId ? await deps.incidents.get(click.incidentId) : null;
  if (!rec?.report) {
    await audit(deps, click, 'not_ready');
    return tell(deps, click, renderNotReady(click.incidentId ?? 'this incident'));
  }
  const res = await deps.incidents.dismiss(rec.incidentId, click.user, Date.now());
  if (!res.dismissed) {
    await audit(deps, click, 'duplicate');
    const line = `${mention(res.stamp.by)} dismissed this incident ${when(res.stamp.at)}`;
    return tell(deps, click, renderAlreadyActed(line));
  }
  await audit(deps, click, 'done');
  await refreshParent(deps, rec.incidentId);
}

/** `heal_dismiss`. */
export function registerDismiss(app: App, deps: BotDeps): void {
  app.action(ACTION_IDS.dismiss, async ({ ack, body }) => {
    await ack();
    const click = parseClick(body);
    if (!click) return;
    await handleDismiss(deps, click).catch((err) =>
      deps.log.error({ err: errorMessage(err), incidentId: click.incidentId }, 'dismiss failed'),
    );
  });
}
