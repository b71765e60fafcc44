import type { App } from '@slack/bolt';
import { errorMessage } from '../../core/errors.ts';
import { incidentId } from '../../core/incident.ts';
import { parseTargetUrl, type Target } from '../../core/target.ts';
import { type AlertRule, targetByRules } from '../alert-rules.ts';
import { extractUrls, findAlertTarget, messageTexts } from '../alert-text.ts';
import type { BotDeps } from '../deps.ts';
import { type Intake, reportFailure } from '../routes/intake.ts';

// Edits, deletions and joins are not alerts; a bot's post (`bot_message`) or a plain message is.
const ALERT_SUBTYPES = new Set([undefined, 'bot_message', 'file_share']);

interface AlertEvent {
  channel?: string;
  ts?: string;
  thread_ts?: string;
  subtype?: string;
}

/** Whether a message event is an alert candidate: in an alert channel, top level, not an edit. */
export function isAlertCandidate(event: AlertEvent, alertChannels: ReadonlySet<string>): boolean {
  if (!event.channel || !event.ts || !alertChannels.has(event.channel)) return false;
  if (!ALERT_SUBTYPES.has(event.subtype)) return false;
  return !event.thread_ts || event.thread_ts === event.ts;
}

/**
 * A message in a HEAL_ALERT_CHANNELS channel with a run URL (Spark, Airflow, dbt Cloud) or Airflow
 * `dag_id` / `run_id` fields starts an
 * investigation threaded under it (thread_ts = the alert's ts). Slack's retries of the same event
 * (same event_id) and a second alert for the same run start nothing new.
 */
export function registerAlertMessage(
  app: App,
  deps: BotDeps,
  intake?: { intake: Intake; rules: AlertRule[] },
): void {
  const channels = new Set(deps.config.HEAL_ALERT_CHANNELS);
  app.event('message', async ({ event, body, context }) => {
    const ev = event as unknown as AlertEvent & Record<string, unknown>;
    if (!isAlertCandidate(ev, channels)) return;
    const target = alertTarget(ev, deps, intake?.rules ?? []);
    if (!target || !ev.channel || !ev.ts) return;
    const eventId = typeof body.event_id === 'string' ? body.event_id : `${ev.channel}:${ev.ts}`;
    if (!(await deps.incidents.firstDelivery(eventId))) {
      deps.log.info({ eventId, retryNum: context.retryNum }, 'alert event already handled (Slack retry)');
      deps.metrics.alert('duplicate_delivery');
      return;
    }
    if (intake) {
      const label = target.platform === 'airflow' ? target.taskId : undefined;
      const input = {
        target,
        channel: ev.channel,
        threadTs: ev.ts,
        source: 'alert' as const,
        via: 'alert message',
      };
      await reportFailure(deps, intake.intake, { ...input, ...(label ? { label } : {}) });
      return;
    }
    const id = incidentId(target);
    const data = { incidentId: id, target, channel: ev.channel, threadTs: ev.ts, source: 'alert' as const };
    const claim = await deps.incidents.claim(data);
    if (!claim.claimed) {
      deps.log.info({ incidentId: id, eventId }, 'alert joins an existing investigation');
      deps.metrics.alert('joined');
      return;
    }
    try {
      await deps.enqueue(data);
      deps.metrics.alert('started');
      deps.log.info({ incidentId: id, eventId }, 'alert investigation queued');
    } catch (err) {
      await deps.incidents.checkpoint(id, 'failed', { error: `could not be queued: ${errorMessage(err)}` });
      throw err;
    }
  });
}

/** URLs first, then the channel's alert rules, then the built-in Airflow field parser. */
function alertTarget(ev: Record<string, unknown>, deps: BotDeps, rules: AlertRule[]): Target | null {
  for (const text of messageTexts(ev))
    for (const url of extractUrls(text)) {
      const parsed = parseTargetUrl(url);
      if (parsed.ok && deps.isSupported(parsed.target.platform)) return parsed.target;
    }
  return targetByRules(rules, ev, deps.isSupported)?.target ?? findAlertTarget(ev, deps.isSupported);
}
