/**
 * The envelope of a signed Slack request: the fields Bolt dereferences before any listener runs
 * (HTTPReceiver's url_verification answer, App#processEvent, helpers.getTypeAndConversation, buildSource,
 * the built-in matchers). A body that fails it would throw inside Bolt: a TypeError on `null` there is
 * outside Bolt's try and took `heal web` down (issue 13 item 6), elsewhere it is a 500. Such a body is
 * refused with 400 before Bolt sees it; everything else is left to the listeners, which parse their own
 * fields. The kinds are told apart in Bolt's order, so a body is checked against the shape Bolt will use.
 */
import { z } from 'zod';

/** Any JSON object (not null, not an array). */
const Obj = z.looseObject({});
const str = z.string().optional();

const UrlVerification = z.looseObject({ type: z.literal('url_verification'), challenge: z.string() });

const EventCallback = z.looseObject({
  event: z.looseObject({
    type: z.string(),
    channel: z.union([z.string(), Obj]).optional(),
    user: z.union([z.string(), Obj]).optional(),
    item: Obj.optional(),
    subteam: Obj.optional(),
  }),
  authorizations: z
    .array(z.looseObject({ team_id: z.string().nullish(), enterprise_id: z.string().nullish() }))
    .optional(),
  team_id: str,
  event_id: str,
});

/** Slash commands: form fields, so strings (a repeated field would be an array). */
const Command = z.looseObject({
  command: z.string(),
  text: str,
  channel_id: str,
  user_id: str,
  team_id: str,
  enterprise_id: str,
  trigger_id: str,
  response_url: str,
});

/** What every interactive payload (options, actions, shortcuts, views) carries. */
const Interactive = z.looseObject({
  type: str,
  user: z.looseObject({ id: z.string(), team_id: str }),
  team: z.looseObject({ id: str, enterprise_id: z.string().nullish() }).nullish(),
  enterprise: z.looseObject({ id: str }).nullish(),
  channel: z.looseObject({ id: str }).optional(),
  trigger_id: str,
  response_url: str,
  response_urls: z.array(z.looseObject({ response_url: str })).optional(),
});

const Action = Interactive.extend({
  actions: z
    .array(z.looseObject({ action_id: str, block_id: str, value: str }))
    .min(1)
    .optional(),
});

const View = Interactive.extend({
  view: z.looseObject({ id: str, callback_id: str, app_installed_team_id: str, private_metadata: str }),
});

export type EnvelopeKind =
  | 'url_verification'
  | 'event'
  | 'command'
  | 'options'
  | 'action'
  | 'shortcut'
  | 'view'
  | 'other';

export type EnvelopeCheck = { ok: true; kind: EnvelopeKind } | { ok: false; error: string };

function kindOf(b: Record<string, unknown>): EnvelopeKind {
  if (b.ssl_check === '1') return 'other';
  if (b.type === 'url_verification') return 'url_verification';
  if (b.event !== undefined) return 'event';
  if (b.command !== undefined) return 'command';
  if (b.name !== undefined || b.type === 'block_suggestion') return 'options';
  if (b.actions !== undefined || b.type === 'dialog_submission' || b.type === 'workflow_step_edit')
    return 'action';
  if (b.type === 'shortcut' || b.type === 'message_action') return 'shortcut';
  if (b.type === 'view_submission' || b.type === 'view_closed') return 'view';
  return 'other';
}

const SCHEMAS: Record<EnvelopeKind, z.ZodType> = {
  url_verification: UrlVerification,
  event: EventCallback,
  command: Command,
  options: Interactive,
  action: Action,
  shortcut: Interactive,
  view: View,
  other: Obj,
};

/** Checks a parsed Slack body (JSON, or the `payload` of a form) against the shape Bolt will read. */
export function checkEnvelope(body: unknown): EnvelopeCheck {
  if (!Obj.safeParse(body).success)
    return { ok: false, error: `body must be a JSON object, not ${describe(body)}` };
  const kind = kindOf(body as Record<string, unknown>);
  const parsed = SCHEMAS[kind].safeParse(body);
  if (parsed.success) return { ok: true, kind };
  const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  return { ok: false, error: `malformed ${kind} payload: ${issues.join('; ')}` };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}
