import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateMessage } from '../../src/report/limits.ts';
import { parseUpload } from './slackFiles.ts';
import { RateLimiter, type RateLimitOptions, type RateLimitStats } from './slackRateLimits.ts';

/** One Web API call as the fake received it. */
export interface SlackCall {
  method: string;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** What the fake answered. */
  response: Record<string, unknown>;
  /** HTTP status of the answer: 200, or 429 when a rate limit was enforced. */
  status: number;
  /** Retry-After seconds sent with a 429. */
  retryAfter?: number;
  /** When the request arrived (performance.now()). */
  at: number;
  /** Set when an injected fault answered instead of the handler (see {@link FaultInjector}). */
  fault?: SlackFault['kind'];
}

/**
 * A fault the fake answers with instead of running the method: a 429 with Retry-After, an HTTP 5xx, or a
 * timeout (the request is held for `holdMs`, then its socket is destroyed without an answer). A faulted
 * call changes nothing (no message is posted), so a client that retries it delivers it exactly once.
 */
export type SlackFault =
  | { kind: 'ratelimited'; retryAfter: number }
  | { kind: 'server_error'; status?: number }
  | { kind: 'timeout'; holdMs: number };

/** Decides, per authenticated Web API call, whether to inject a fault (undefined: answer normally). */
export type FaultInjector = (method: string, body: Record<string, unknown>) => SlackFault | undefined;

/** A file uploaded through files.getUploadURLExternal + the upload URL + files.completeUploadExternal. */
export interface FakeFile {
  id: string;
  filename: string;
  length: number;
  /** The uploaded bytes as UTF-8, once uploaded. */
  content?: string;
  title?: string;
  /** Every completeUploadExternal that shared it (more than one is a duplicate upload). */
  shares: Array<{ channel?: string; thread_ts?: string }>;
}

export interface FakeSlack {
  /** Web API base ending with a slash, for SLACK_API_URL. */
  apiUrl: string;
  calls: SlackCall[];
  /** Calls of one method, in order. */
  callsOf(method: string): SlackCall[];
  /** Current state of each posted message (after chat.update), by ts. */
  messages: Map<string, { channel: string; text: string; blocks: unknown[]; thread_ts?: string }>;
  /** Files by id (see {@link FakeFile}). */
  files: Map<string, FakeFile>;
  /** User-group members answered by `usergroups.users.list`, by group id (`S…`); set by tests. */
  usergroups: Map<string, string[]>;
  /** The App Home view last published per user (`views.publish`). */
  homes: Map<string, { type: string; blocks: unknown[] }>;
  /** Modals opened with `views.open`, in order (the view as sent, with its trigger_id). */
  views: Array<{ triggerId: string; view: Record<string, unknown> }>;
  /**
   * Enforces Slack-like rate limits from now on (HTTP 429 + Retry-After), or stops enforcing them with
   * `undefined`. Returns the limiter's live stats.
   */
  enforceRateLimits(opts: RateLimitOptions | undefined): RateLimitStats;
  /** Stats of the current limiter (zeros when none). */
  rateLimitStats(): RateLimitStats;
  /** Injects faults from now on (undefined stops). Faults are decided before rate limits apply. */
  injectFaults(injector: FaultInjector | undefined): void;
  close(): Promise<void>;
}

export const FAKE_TEAM = { team_id: 'T0001', team: 'Example', user_id: 'UHEALBOT', bot_id: 'BHEALBOT' };

// WebClient sends form-encoded bodies with objects JSON-encoded; other clients may send JSON.
function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json'))
    return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    out[k] = /^[[{]/.test(v) ? safeJson(v) : v;
  }
  return out;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

type Handler = (body: Record<string, unknown>) => Record<string, unknown>;

function messageCheck(body: Record<string, unknown>): Record<string, unknown> | null {
  if (typeof body.channel !== 'string' || !body.channel) return { ok: false, error: 'channel_not_found' };
  const blocks = body.blocks;
  if (blocks === undefined) return typeof body.text === 'string' ? null : { ok: false, error: 'no_text' };
  if (!Array.isArray(blocks)) return { ok: false, error: 'invalid_blocks_format' };
  const problems = validateMessage({ text: String(body.text ?? ''), blocks });
  return problems.length ? { ok: false, error: 'invalid_blocks', errors: problems } : null;
}

function fileHandlers(state: FakeSlack, uploadBase: () => string): Record<string, Handler> {
  let seq = 0;
  return {
    'files.getUploadURLExternal': (b) => {
      const length = Number(b.length);
      if (typeof b.filename !== 'string' || !b.filename) return { ok: false, error: 'invalid_arguments' };
      if (!Number.isInteger(length) || length <= 0) return { ok: false, error: 'invalid_arguments' };
      const id = `F0HEAL${String(++seq).padStart(5, '0')}`;
      state.files.set(id, { id, filename: b.filename, length, shares: [] });
      return { ok: true, upload_url: `${uploadBase()}${id}`, file_id: id };
    },
    'files.completeUploadExternal': (b) => {
      const files = Array.isArray(b.files) ? (b.files as Array<{ id?: unknown; title?: unknown }>) : [];
      if (!files.length) return { ok: false, error: 'invalid_arguments' };
      const found = files.map((f) => state.files.get(String(f.id)));
      if (found.some((f) => f?.content === undefined)) return { ok: false, error: 'file_not_found' };
      const share = {
        ...(typeof b.channel_id === 'string' ? { channel: b.channel_id } : {}),
        ...(typeof b.thread_ts === 'string' ? { thread_ts: b.thread_ts } : {}),
      };
      return {
        ok: true,
        files: found.map((f, i) => {
          const file = f as FakeFile;
          file.title = String(files[i]?.title ?? file.filename);
          file.shares.push(share);
          return { id: file.id, name: file.filename, title: file.title };
        }),
      };
    },
  };
}

function handlers(state: FakeSlack, nextTs: () => string): Record<string, Handler> {
  return {
    'auth.test': () => ({ ok: true, url: 'https://example.slack.com/', user: 'heal', ...FAKE_TEAM }),
    'chat.postMessage': (b) => {
      const bad = messageCheck(b);
      if (bad) return bad;
      const ts = nextTs();
      const thread = typeof b.thread_ts === 'string' ? { thread_ts: b.thread_ts } : {};
      const msg = {
        channel: String(b.channel),
        text: String(b.text ?? ''),
        blocks: (b.blocks as unknown[]) ?? [],
      };
      state.messages.set(ts, { ...msg, ...thread });
      const message = { type: 'message', bot_id: FAKE_TEAM.bot_id, text: msg.text, ts, ...thread };
      return { ok: true, channel: msg.channel, ts, message };
    },
    'chat.update': (b) => {
      const bad = messageCheck(b);
      if (bad) return bad;
      const ts = String(b.ts ?? '');
      const prev = state.messages.get(ts);
      if (!prev || prev.channel !== b.channel) return { ok: false, error: 'message_not_found' };
      state.messages.set(ts, { ...prev, text: String(b.text ?? ''), blocks: (b.blocks as unknown[]) ?? [] });
      return { ok: true, channel: prev.channel, ts, text: String(b.text ?? ''), message: { text: b.text } };
    },
    'chat.postEphemeral': (b) => {
      const bad = messageCheck(b);
      if (bad) return bad;
      if (typeof b.user !== 'string' || !b.user) return { ok: false, error: 'user_not_found' };
      return { ok: true, message_ts: nextTs() };
    },
    'chat.getPermalink': (b) => {
      const ts = String(b.message_ts ?? '');
      if (!state.messages.has(ts)) return { ok: false, error: 'message_not_found' };
      return {
        ok: true,
        channel: b.channel,
        permalink: `https://example.slack.com/archives/${String(b.channel)}/p${ts.replace('.', '')}`,
      };
    },
    'usergroups.users.list': (b) => {
      const users = state.usergroups.get(String(b.usergroup ?? ''));
      return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
    },
    'views.open': (b) => {
      const view = b.view as Record<string, unknown> | undefined;
      if (typeof b.trigger_id !== 'string' || !b.trigger_id)
        return { ok: false, error: 'invalid_trigger_id' };
      if (view?.type !== 'modal' || !Array.isArray(view.blocks) || view.blocks.length > 100)
        return { ok: false, error: 'invalid_arguments' };
      if (String(view.private_metadata ?? '').length > 3000) return { ok: false, error: 'invalid_arguments' };
      state.views.push({ triggerId: b.trigger_id, view });
      return { ok: true, view: { id: `V${nextTs().replace('.', '')}`, ...view } };
    },
    'views.publish': (b) => {
      const view = b.view as { type?: unknown; blocks?: unknown } | undefined;
      if (typeof b.user_id !== 'string' || view?.type !== 'home' || !Array.isArray(view.blocks))
        return { ok: false, error: 'invalid_arguments' };
      if (view.blocks.length > 100) return { ok: false, error: 'invalid_arguments' };
      state.homes.set(b.user_id, { type: 'home', blocks: view.blocks });
      return { ok: true, view: { id: `V${nextTs().replace('.', '')}`, ...view } };
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
  };
}

/** A local fake of Slack's Web API on 127.0.0.1 that records every call and validates Block Kit. */
export async function startFakeSlack(
  opts: { rateLimits?: RateLimitOptions; faults?: FaultInjector } = {},
): Promise<FakeSlack> {
  let seq = 0;
  const base = Math.floor(Date.now() / 1000);
  const nextTs = () => `${base}.${String(++seq).padStart(6, '0')}`;
  let limiter = opts.rateLimits ? new RateLimiter(opts.rateLimits) : undefined;
  let origin = '';
  let injector = opts.faults;
  const state: FakeSlack = {
    apiUrl: '',
    calls: [],
    callsOf: (method) => state.calls.filter((c) => c.method === method),
    messages: new Map(),
    files: new Map(),
    usergroups: new Map(),
    homes: new Map(),
    views: [],
    enforceRateLimits: (o) => {
      limiter = o ? new RateLimiter(o) : undefined;
      return state.rateLimitStats();
    },
    rateLimitStats: () => limiter?.stats ?? { sent429: 0, early: 0, byKey: {} },
    injectFaults: (f) => {
      injector = f;
    },
    close: async () => undefined,
  };
  const table = { ...handlers(state, nextTs), ...fileHandlers(state, () => `${origin}/upload/v1/`) };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (path.startsWith('/upload/v1/')) {
        const status = receiveUpload(state, path.slice('/upload/v1/'.length), raw, req.headers);
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 200 ? `OK - ${raw.length}` : 'upload failed');
        return;
      }
      const at = performance.now();
      const method = path.replace(/^\/api\//, '');
      const body = parseBody(raw.toString('utf8'), req.headers['content-type']);
      const authed = req.headers.authorization?.startsWith('Bearer ');
      const fault = authed ? injector?.(method, body) : undefined;
      if (fault) return answerFault(state, fault, { method, body, headers: req.headers, at }, res);
      const retryAfter = authed ? limiter?.check(method, body) : undefined;
      if (retryAfter !== undefined) {
        const response = { ok: false, error: 'ratelimited' };
        state.calls.push({ method, body, headers: req.headers, response, status: 429, retryAfter, at });
        res.writeHead(429, {
          'content-type': 'application/json; charset=utf-8',
          'retry-after': String(retryAfter),
        });
        res.end(JSON.stringify(response));
        return;
      }
      const handler = table[method];
      const response = !authed
        ? { ok: false, error: 'not_authed' }
        : handler
          ? handler(body)
          : { ok: false, error: 'unknown_method' };
      state.calls.push({ method, body, headers: req.headers, response, status: 200, at });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(response));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  state.apiUrl = `${origin}/api/`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

function answerFault(
  state: FakeSlack,
  fault: SlackFault,
  call: Pick<SlackCall, 'method' | 'body' | 'headers' | 'at'>,
  res: ServerResponse,
): void {
  const json = { 'content-type': 'application/json; charset=utf-8' };
  if (fault.kind === 'timeout') {
    state.calls.push({ ...call, response: {}, status: 0, fault: fault.kind });
    const timer = setTimeout(() => res.destroy(), fault.holdMs);
    res.once('close', () => clearTimeout(timer));
    return;
  }
  if (fault.kind === 'ratelimited') {
    const response = { ok: false, error: 'ratelimited' };
    const retryAfter = fault.retryAfter;
    state.calls.push({ ...call, response, status: 429, retryAfter, fault: fault.kind });
    res.writeHead(429, { ...json, 'retry-after': String(retryAfter) });
    res.end(JSON.stringify(response));
    return;
  }
  const status = fault.status ?? 500;
  const response = { ok: false, error: 'internal_error' };
  state.calls.push({ ...call, response, status, fault: fault.kind });
  res.writeHead(status, json);
  res.end(JSON.stringify(response));
}

/** The upload URL's side: stores the bytes of a reserved file (raw or multipart); 404 for unknown ids. */
function receiveUpload(state: FakeSlack, id: string, raw: Buffer, headers: IncomingHttpHeaders): number {
  const file = state.files.get(id);
  if (!file) return 404;
  const content = parseUpload(raw, headers['content-type']);
  if (content === undefined) return 400;
  file.content = content.toString('utf8');
  return 200;
}

/** Slack's request signature: `v0=` + HMAC-SHA256(secret, `v0:<ts>:<body>`). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignedResponse {
  status: number;
  text: string;
  json: unknown;
  ms: number;
}

/** POSTs `body` to web like Slack does: signed, with X-Slack-Request-Timestamp (and any extra headers). */
export async function sendSigned(
  url: string,
  body: string,
  opts: { secret: string; contentType: 'form' | 'json'; headers?: Record<string, string> },
): Promise<SignedResponse> {
  const timestamp = Math.floor(Date.now() / 1000);
  const t0 = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': opts.contentType === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(opts.secret, timestamp, body),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...opts.headers,
    },
    body,
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  return { status: res.status, text, json: safeJson(text), ms };
}

/** A slash-command body as Slack sends it (fields of corpus/slack/slash_command_body.form-urlencoded.txt). */
export function slashCommandBody(
  text: string,
  o: { channel?: string; user?: string; command?: string } = {},
): string {
  return new URLSearchParams({
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    team_id: FAKE_TEAM.team_id,
    team_domain: 'example',
    channel_id: o.channel ?? 'C2147483705',
    channel_name: 'test',
    user_id: o.user ?? 'U2147483697',
    user_name: 'Steve',
    command: o.command ?? '/heal',
    text,
    api_app_id: 'A0HEAL',
    response_url: 'https://hooks.slack.com/commands/1234/5678',
    trigger_id: '123.123.123',
  }).toString();
}

/** An Events API `event_callback` envelope (shape of corpus/slack/zulip/message_from_slack_integration_bot.json). */
export function eventCallbackBody(event: Record<string, unknown>, eventId: string): string {
  return JSON.stringify({
    token: 'x8GlZSSaBheFZWjZPbxPasEY',
    team_id: FAKE_TEAM.team_id,
    context_team_id: FAKE_TEAM.team_id,
    api_app_id: 'A0HEAL',
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: FAKE_TEAM.team_id, user_id: FAKE_TEAM.user_id, is_bot: true }],
    is_ext_shared_channel: false,
  });
}
