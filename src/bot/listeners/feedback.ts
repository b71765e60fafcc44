import type { App } from '@slack/bolt';
import { errorMessage } from '../../core/errors.ts';
import { ACTION_IDS } from '../../report/actions.ts';
import { renderFeedbackThanks, renderNotReady } from '../../report/ephemeral.ts';
import type { BotDeps } from '../deps.ts';
import { audit, type Click, parseClick, refreshParent, tell } from './click.ts';

/** 👍/👎: one vote per user per incident (the latest counts), recorded for the outcome log and shown as counts. */
export async function handleFeedback(deps: BotDeps, click: Click): Promise<void> {
  const up = click.action === ACTION_IDS.feedbackUp;
  const rec = click.incidentId ? await deps.incidents.get(click.incidentId) : null;
  if (!rec?.report) {
    await audit(deps, click, 'not_ready');
    return tell(deps, click, renderNotReady(click.incidentId ?? 'this incident'));
  }
  const counts = await deps.incidents.recordFeedback(rec.incidentId, click.user, up ? 'up' : 'down');
  await audit(deps, click, 'recorded', `up=${counts.up} down=${counts.down}`);
  await tell(deps, click, renderFeedbackThanks(up));
  await refreshParent(deps, rec.incidentId);
}

/** `heal_feedback_up` and `heal_feedback_down` (one handler, two action ids). */
export function registerFeedback(app: App, deps: BotDeps): void {
  for (const id of [ACTION_IDS.feedbackUp, ACTION_IDS.feedbackDown])
    app.action(id, async ({ ack, body }) => {
      await ack();
      const click = parseClick(body);
      if (!click) return;
      await handleFeedback(deps, click).catch((err) =>
        deps.log.error({ err: errorMessage(err), incidentId: click.incidentId }, 'feedback failed'),
      );
    });
}
