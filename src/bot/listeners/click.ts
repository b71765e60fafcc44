import { z } from 'zod';
import type { IncidentRecord } from '../../jobs/incidents.ts';
import { threadStateOf } from '../../jobs/views.ts';
import { renderParent } from '../../report/blocks.ts';
import type { SlackMessage } from '../../report/types.ts';
import type { BotDeps } from '../deps.ts';

/** The fields of a `block_actions` payload (corpus BlockActionPayload.json) a button listener reads. */
export const BlockAction = z.object({
  user: z.object({ id: z.string().min(1) }),
  channel: z.object({ id: z.string().min(1) }).optional(),
  container: z
    .object({
      channel_id: z.string().optional(),
      message_ts: z.string().optional(),
      thread_ts: z.string().optional(),
      is_ephemeral: z.boolean().optional(),
    })
    .optional(),
  message: z.object({ ts: z.string().optional(), thread_ts: z.string().optional() }).optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })).min(1),
});

/** One button click, parsed: who, which incident, and where to answer. */
export interface Click {
  user: string;
  action: string;
  /** The incident id the button carried (validated `inc_<hex>`), or undefined. */
  incidentId: string | undefined;
  channel: string | undefined;
  threadTs: string | undefined;
  /** ts of the message whose button was clicked. */
  messageTs: string | undefined;
  /** The button sat in an ephemeral message (e.g. "Rerun anyway"), which has no ts of Heal's own. */
  ephemeral: boolean;
}

export function parseClick(body: unknown): Click | undefined {
  const p = BlockAction.safeParse(body);
  if (!p.success) return undefined;
  const a = p.data.actions[0] as { action_id: string; value?: string };
  const value = a.value ?? '';
  return {
    user: p.data.user.id,
    action: a.action_id,
    incidentId: /^inc_[0-9a-f]+$/.test(value) ? value : undefined,
    channel: p.data.channel?.id ?? p.data.container?.channel_id,
    threadTs: p.data.container?.thread_ts ?? p.data.message?.thread_ts,
    messageTs: p.data.container?.message_ts ?? p.data.message?.ts,
    ephemeral: p.data.container?.is_ephemeral ?? false,
  };
}

/**
 * Whether a click's incident id belongs where the click came from: the incident's own channel and, for a
 * button on a message, the incident's thread parent. A button value copied into another message (or a
 * crafted payload naming another channel's incident) acts on nothing.
 */
export function clickMatchesIncident(
  click: Click,
  rec: Pick<IncidentRecord, 'channel' | 'parentTs'>,
): boolean {
  if (!click.channel || click.channel !== rec.channel) return false;
  if (click.ephemeral) return true;
  return Boolean(rec.parentTs && click.messageTs === rec.parentTs);
}

/** Ephemeral answer to the clicking user, in the thread of the click when there is one. */
export async function tell(deps: BotDeps, click: Click, msg: SlackMessage): Promise<void> {
  if (!click.channel) return;
  await deps.slack.postEphemeral(click.channel, click.user, msg, click.threadTs);
}

export async function audit(deps: BotDeps, click: Click, result: string, detail?: string): Promise<void> {
  await deps.audit.record({
    who: click.user,
    what: click.action,
    incident: click.incidentId ?? 'unknown',
    result,
    ...(detail ? { detail } : {}),
  });
}

/** Re-renders the thread parent from the stored incident (after an action), best effort. */
export async function refreshParent(deps: BotDeps, incidentId: string): Promise<void> {
  const rec: IncidentRecord | null = await deps.incidents.get(incidentId);
  if (!rec?.parentTs) return;
  const state = threadStateOf(rec, await deps.incidents.feedback(incidentId));
  if (state) await deps.slack.update(rec.channel, rec.parentTs, renderParent(state));
}
