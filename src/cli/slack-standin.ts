/**
 * A local stand-in for Slack used by `heal demo`: the Web API methods Heal calls (recorded, Block Kit
 * validated like Slack does), a store of each channel's messages, and delivery of signed Events API
 * callbacks to Heal's web process, the way Slack delivers a message posted in a channel.
 *
 * The test suite's fake (test/support/fakeSlack.ts) grew more knobs (rate limits, fault injection); this is
 * the subset a shipped command needs, kept free of any test/ import.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateMessage } from '../report/limits.ts';

/** A message as the stand-in holds it: an alert someone posted, or one Heal posted / updated. */
export interface StandinMessage {
  ts: string;
  channel: string;
  text: string;
  blocks: unknown[];
  thread_ts?: string;
  /** Who posted it: Heal's bot, or the display name of the alerting bot / user. */
  author: string;
}

/** One Web API call as received. */
export interface StandinCall {
  method: string;
  body: Record<string, unknown>;
  response: Record<string, unknown>;
}

export interface SlackStandin {
  /** Web API base ending with a slash, for SLACK_API_URL. */
  apiUrl: string;
  calls: StandinCall[];
  /** Every message by ts (current state, after chat.update). */
  messages: Map<string, StandinMessage>;
  /** Files uploaded through files.getUploadURLExternal / completeUploadExternal, by id. */
  files: Map<string, { filename: string; content?: string; title?: string }>;
  /** A top-level message and its replies, oldest first. */
  thread(channel: string, ts: string): StandinMessage[];
  /**
   * Posts a message in a channel as `author` (a user or an alerting bot) and delivers it to `eventsUrl`
   * as a signed `event_callback`, like Slack does. Returns the message's ts and the delivery's HTTP status.
   */
  postAndDeliver(
    msg: { channel: string; text: string; author: string; botId?: string },
    delivery: { eventsUrl: string; signingSecret: string },
  ): Promise<{ ts: string; status: number }>;
  close(): Promise<void>;
}

/** The workspace the stand-in pretends to be. */
export const STANDIN_TEAM = {
  team_id: 'T0HEALDEMO',
  team: 'Heal demo',
  user_id: 'UHEALBOT',
  bot_id: 'BHEALBOT',
};

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) return raw ? (safeJson(raw) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) out[k] = /^[[{]/.test(v) ? safeJson(v) : v;
  return out;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

function messageCheck(body: Record<string, unknown>): Record<string, unknown> | null {
  if (typeof body.channel !== 'string' || !body.channel) return { ok: false, error: 'channel_not_found' };
  if (body.blocks === undefined)
    return typeof body.text === 'string' ? null : { ok: false, error: 'no_text' };
  if (!Array.isArray(body.blocks)) return { ok: false, error: 'invalid_blocks_format' };
  const problems = validateMessage({ text: String(body.text ?? ''), blocks: body.blocks });
  return problems.length ? { ok: false, error: 'invalid_blocks', errors: problems } : null;
}

type Handler = (b: Record<string, unknown>) => Record<string, unknown>;

function messageHandlers(s: SlackStandin, nextTs: () => string): Record<string, Handler> {
  return {
    'auth.test': () => ({ ok: true, url: 'https://heal-demo.slack.com/', user: 'heal', ...STANDIN_TEAM }),
    'chat.postMessage': (b) => {
      const bad = messageCheck(b);
      if (bad) return bad;
      const ts = nextTs();
      const thread = typeof b.thread_ts === 'string' ? { thread_ts: b.thread_ts } : {};
      const text = String(b.text ?? '');
      const blocks = Array.isArray(b.blocks) ? b.blocks : [];
      s.messages.set(ts, { ts, channel: String(b.channel), text, blocks, author: 'Heal', ...thread });
      return { ok: true, channel: b.channel, ts, message: { type: 'message', bot_id: 'BHEALBOT', text, ts } };
    },
    'chat.update': (b) => {
      const bad = messageCheck(b);
      if (bad) return bad;
      const prev = s.messages.get(String(b.ts ?? ''));
      if (!prev || prev.channel !== b.channel) return { ok: false, error: 'message_not_found' };
      const blocks = Array.isArray(b.blocks) ? b.blocks : [];
      s.messages.set(prev.ts, { ...prev, text: String(b.text ?? ''), blocks });
      return { ok: true, channel: prev.channel, ts: prev.ts, text: String(b.text ?? '') };
    },
    'chat.postEphemeral': (b) => messageCheck(b) ?? { ok: true, message_ts: nextTs() },
    'chat.getPermalink': (b) => {
      const ts = String(b.message_ts ?? '');
      if (!s.messages.has(ts)) return { ok: false, error: 'message_not_found' };
      const permalink = `https://heal-demo.slack.com/archives/${String(b.channel)}/p${ts.replace('.', '')}`;
      return { ok: true, channel: b.channel, permalink };
    },
    'conversations.info': (b) => ({
      ok: true,
      channel: {
        id: b.channel,
        name: 'data-alerts',
        is_channel: true,
        is_private: false,
        is_archived: false,
      },
    }),
    'usergroups.users.list': () => ({ ok: true, users: [] }),
    'views.publish': (b) => ({
      ok: true,
      view: { id: `V${nextTs().replace('.', '')}`, ...(b.view as object) },
    }),
  };
}

function fileHandlers(s: SlackStandin, uploadBase: () => string): Record<string, Handler> {
  let seq = 0;
  return {
    'files.getUploadURLExternal': (b) => {
      if (typeof b.filename !== 'string' || !(Number(b.length) > 0))
        return { ok: false, error: 'invalid_arguments' };
      const id = `F0DEMO${String(++seq).padStart(5, '0')}`;
      s.files.set(id, { filename: b.filename });
      return { ok: true, upload_url: `${uploadBase()}${id}`, file_id: id };
    },
    'files.completeUploadExternal': (b) => {
      const files = Array.isArray(b.files) ? (b.files as Array<{ id?: unknown; title?: unknown }>) : [];
      const found = files.map((f) => ({ f, file: s.files.get(String(f.id)) }));
      if (!found.length || found.some((x) => x.file?.content === undefined))
        return { ok: false, error: 'file_not_found' };
      for (const { f, file } of found) if (file) file.title = String(f.title ?? file.filename);
      return { ok: true, files: found.map(({ f }) => ({ id: f.id })) };
    },
  };
}

/** Slack's request signature: `v0=` + HMAC-SHA256(secret, `v0:<ts>:<body>`). */
export function signSlackRequest(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** An Events API `event_callback` envelope around one event. */
export function eventCallback(event: Record<string, unknown>, eventId: string): string {
  return JSON.stringify({
    token: 'heal-demo-verification-token',
    team_id: STANDIN_TEAM.team_id,
    context_team_id: STANDIN_TEAM.team_id,
    api_app_id: 'A0HEALDEMO',
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: STANDIN_TEAM.team_id, user_id: STANDIN_TEAM.user_id, is_bot: true }],
    is_ext_shared_channel: false,
  });
}

async function deliver(url: string, secret: string, body: string): Promise<number> {
  const timestamp = Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signSlackRequest(secret, timestamp, body),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    },
    body,
  });
  await res.text();
  return res.status;
}

/** Starts the stand-in on 127.0.0.1 (ephemeral port). */
export async function startSlackStandin(): Promise<SlackStandin> {
  let seq = 0;
  const base = Math.floor(Date.now() / 1000);
  const nextTs = () => `${base}.${String(++seq).padStart(6, '0')}`;
  let origin = '';
  const s: SlackStandin = {
    apiUrl: '',
    calls: [],
    messages: new Map(),
    files: new Map(),
    thread: (channel, ts) =>
      [...s.messages.values()]
        .filter((m) => m.channel === channel && (m.ts === ts || m.thread_ts === ts))
        .sort((a, b) => a.ts.localeCompare(b.ts)),
    async postAndDeliver(msg, delivery) {
      const ts = nextTs();
      s.messages.set(ts, { ts, channel: msg.channel, text: msg.text, blocks: [], author: msg.author });
      const event = {
        type: 'message',
        subtype: 'bot_message',
        bot_id: msg.botId ?? 'B0ALERTS',
        username: msg.author,
        text: msg.text,
        ts,
        channel: msg.channel,
        event_ts: ts,
        channel_type: 'channel',
      };
      const body = eventCallback(event, `Ev0DEMO${ts.replace('.', '')}`);
      return { ts, status: await deliver(delivery.eventsUrl, delivery.signingSecret, body) };
    },
    close: async () => undefined,
  };
  const table = { ...messageHandlers(s, nextTs), ...fileHandlers(s, () => `${origin}/upload/v1/`) };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (path.startsWith('/upload/v1/')) {
        const status = receiveUpload(s, path.slice('/upload/v1/'.length), raw, req.headers);
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 200 ? `OK - ${raw.length}` : 'upload failed');
        return;
      }
      const method = path.replace(/^\/api\//, '');
      const body = parseBody(raw.toString('utf8'), req.headers['content-type']);
      const handler = table[method];
      const response = !req.headers.authorization?.startsWith('Bearer ')
        ? { ok: false, error: 'not_authed' }
        : handler
          ? handler(body)
          : { ok: false, error: 'unknown_method' };
      s.calls.push({ method, body, response });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(response));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  s.apiUrl = `${origin}/api/`;
  s.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return s;
}

/** Stores an uploaded file's bytes (the first file part of a multipart body, or the raw body). */
function receiveUpload(s: SlackStandin, id: string, raw: Buffer, headers: IncomingHttpHeaders): number {
  const file = s.files.get(id);
  if (!file) return 404;
  const boundary = headers['content-type']?.match(/multipart\/form-data;.*boundary="?([^";]+)"?/i)?.[1];
  if (!boundary) {
    file.content = raw.toString('utf8');
    return 200;
  }
  for (const part of raw.toString('latin1').split(`--${boundary}`).slice(1, -1)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0 || !/filename=/i.test(part.slice(0, split))) continue;
    file.content = Buffer.from(part.slice(split + 4).replace(/\r\n$/, ''), 'latin1').toString('utf8');
    return 200;
  }
  return 400;
}
