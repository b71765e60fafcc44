/**
 * Bolt's HTTPReceiver behind a guard (issue 13). Bolt buffers a whole body with raw-body (no limit) before
 * it checks the signature, accepts timestamps up to any time in the future, replays a valid signed
 * request within its 5-minute window, and throws outside its try on a signed `null` body, which took the
 * process down. In front of it, every `POST /slack/events` and webhook body is read under
 * HEAL_MAX_BODY_BYTES (see ./routes/body.ts); a Slack request must then be signed (Bolt's own verifier),
 * dated within 5 minutes either way, parse to an object of the shape Bolt reads (./routes/slack-envelope.ts),
 * and be seen for the first time. Only then does Bolt get it, with the body already read (`rawBody`), and
 * Bolt verifies the signature again as before.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import {
  type BufferedIncomingMessage,
  HTTPModuleFunctions,
  HTTPReceiver,
  type HTTPReceiverOptions,
  verifySlackRequest,
} from '@slack/bolt';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { BodyError, type BodyLimits, declaredTooLarge, readBody, refuse, tooLarge } from './routes/body.ts';
import { checkEnvelope, type EnvelopeKind } from './routes/slack-envelope.ts';

/** Slack's X-Slack-Request-Timestamp window, in seconds, in the past (Bolt) and in the future (here). */
export const SLACK_WINDOW_S = 300;
/**
 * A replay claim Redis does not answer within this is skipped and the request goes on: without Redis no
 * listener can change anything either, and `/heal` must still answer "store unreachable" within Slack's
 * 3 s (store-deadline.ts gives the listener 2 s of them).
 */
export const CLAIM_TIMEOUT_MS = 500;
const SLACK_PATH = '/slack/events';

export interface GuardOptions {
  signingSecret: string;
  limits: BodyLimits;
  /** Exact POST paths besides /slack/events whose bodies are read under `limits` first (the webhooks). */
  bodyPaths: readonly string[];
  /**
   * Claims a request key for `ttlMs` (Redis SET NX PX); resolves false when it was already claimed, i.e.
   * the request is a replay. When it rejects, or does not answer within CLAIM_TIMEOUT_MS, or `reachable()`
   * is false, the replay check is skipped (logged) and the request goes on.
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Whether the claim store is connected now (a command sent while it is not would only queue). */
  reachable?: () => boolean;
  log: Logger;
  /** The clock, in ms (tests). */
  now?: () => number;
}

/** What the guard decided about a Slack request whose body was read. */
export type SlackVerdict =
  | { action: 'pass' }
  | { action: 'refuse'; status: 400 | 401; error: string; message: string }
  | { action: 'signed'; key: string; ttlMs: number; kind: EnvelopeKind };

const unauthorized = (message: string): SlackVerdict => ({
  action: 'refuse',
  status: 401,
  error: 'unauthorized',
  message,
});

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** Signature and timestamp: Bolt's verifier (past window, HMAC), plus the future window Bolt lacks. */
function verify(req: IncomingMessage, text: string, secret: string, nowMs: number) {
  const signature = header(req, 'x-slack-signature');
  const timestamp = Number(header(req, 'x-slack-request-timestamp'));
  if (!signature || !Number.isFinite(timestamp)) return unauthorized('missing Slack signature headers');
  if (timestamp > Math.floor(nowMs / 1000) + SLACK_WINDOW_S)
    return unauthorized('X-Slack-Request-Timestamp is more than 5 minutes in the future');
  try {
    verifySlackRequest({
      signingSecret: secret,
      body: text,
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
      nowMilliseconds: nowMs,
    });
  } catch (err) {
    return unauthorized(errorMessage(err));
  }
  return { signature, timestamp };
}

/**
 * Decides on one `POST /slack/events` whose body is `req.rawBody`: `pass` for Slack's unsigned ssl_check
 * (Bolt answers it and strips anything else), `refuse` for a bad signature or timestamp (401) or a body
 * Bolt could not route (400), else `signed` with the replay key: X-Slack-Signature is unique per
 * (timestamp, body). Slack's own retries of an event carry a new timestamp and signature; the retry
 * number is part of an event's key all the same, so a retry signed within the same second as its
 * original still reaches the event_id dedupe of the listeners.
 */
export function judgeSlackRequest(req: BufferedIncomingMessage, secret: string, nowMs: number): SlackVerdict {
  const text = req.rawBody.toString();
  const form = req.headers['content-type'] === 'application/x-www-form-urlencoded';
  if (form && parseQuery(text).ssl_check === '1') return { action: 'pass' };
  const signed = verify(req, text, secret, nowMs);
  if ('action' in signed) return signed;
  let body: unknown;
  try {
    body = HTTPModuleFunctions.parseHTTPRequestBody(req);
  } catch {
    return { action: 'refuse', status: 400, error: 'invalid_body', message: 'body is not JSON or a form' };
  }
  const envelope = checkEnvelope(body);
  if (!envelope.ok)
    return { action: 'refuse', status: 400, error: 'invalid_payload', message: envelope.error };
  const retry = envelope.kind === 'event' ? header(req, 'x-slack-retry-num') : undefined;
  const key = `slack:sig:${signed.signature}${retry ? `:retry:${retry.slice(0, 8)}` : ''}`;
  const ttlMs = (signed.timestamp + SLACK_WINDOW_S) * 1000 - nowMs + 60_000;
  return { action: 'signed', key, ttlMs: Math.max(60_000, Math.ceil(ttlMs)), kind: envelope.kind };
}

/** The replay claim: `first`, `replay`, or `unknown` when the store did not answer (in time). */
async function claimWithin(
  opts: GuardOptions,
  key: string,
  ttlMs: number,
): Promise<'first' | 'replay' | 'unknown'> {
  if (opts.reachable && !opts.reachable()) return 'unknown';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'unknown'>((resolve) => {
    timer = setTimeout(() => resolve('unknown'), CLAIM_TIMEOUT_MS);
  });
  const claimed = opts.claim(key, ttlMs).then((first) => (first ? ('first' as const) : ('replay' as const)));
  claimed.catch(() => undefined); // a late failure after the timeout is not unhandled
  try {
    return await Promise.race([claimed, timeout]);
  } catch (err) {
    opts.log.warn({ err: errorMessage(err) }, 'replay claim failed');
    return 'unknown';
  } finally {
    clearTimeout(timer);
  }
}

async function guarded(
  opts: GuardOptions,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  next: RequestListener,
): Promise<void> {
  const log = opts.log.child({ path });
  const body = await readBody(req, opts.limits).catch((err: unknown) => {
    if (err instanceof BodyError) return err;
    throw err;
  });
  if (body instanceof BodyError) {
    log.warn({ status: body.status, code: body.code }, 'request body refused');
    const retry = body.status === 503 ? { 'retry-after': '1' } : undefined;
    return refuse(req, res, body.status, { ok: false, error: body.code, message: body.message }, retry);
  }
  const buffered = Object.assign(req, { rawBody: body }) satisfies BufferedIncomingMessage;
  if (path !== SLACK_PATH) return next(buffered, res);
  const nowMs = (opts.now ?? Date.now)();
  const verdict = judgeSlackRequest(buffered, opts.signingSecret, nowMs);
  if (verdict.action === 'refuse') {
    log.warn({ status: verdict.status, err: verdict.message }, 'slack request refused');
    return refuse(req, res, verdict.status, { ok: false, error: verdict.error, message: verdict.message });
  }
  if (verdict.action === 'signed') {
    const claim = await claimWithin(opts, verdict.key, verdict.ttlMs);
    if (claim === 'replay') {
      log.warn({ kind: verdict.kind }, 'replayed slack request ignored (signature already seen)');
      return refuse(req, res, 200, undefined);
    }
    if (claim === 'unknown') log.warn({ kind: verdict.kind }, 'replay check skipped: Redis did not answer');
  }
  next(buffered, res);
}

function pathOf(req: IncomingMessage): string | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

/** Wraps a request listener: guarded POST paths go through {@link guarded}, anything else straight on. */
export function guardRequests(opts: GuardOptions, next: RequestListener): RequestListener {
  return (req, res) => {
    const path = pathOf(req);
    const guardedPath = path === SLACK_PATH || (path !== undefined && opts.bodyPaths.includes(path));
    if (req.method !== 'POST' || !path || !guardedPath) return next(req, res);
    guarded(opts, req, res, path, next).catch((err: unknown) => {
      opts.log.error({ err: errorMessage(err), path }, 'request guard failed');
      refuse(req, res, 500, { ok: false, error: 'internal', message: 'Heal could not take this request' });
    });
  };
}

/**
 * Answers `Expect: 100-continue` with 413 when Content-Length is over the cap, so the client does not send
 * the body at all; otherwise continues as Node would.
 */
export function refuseLargeContinues(server: Server, maxBytes: number): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (declaredTooLarge(req, maxBytes)) {
      const err = tooLarge(maxBytes);
      return refuse(req, res, err.status, { ok: false, error: err.code, message: err.message });
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
}

/** Bolt's HTTPReceiver with {@link guardRequests} in front of its request listener. */
export class GuardedHTTPReceiver extends HTTPReceiver {
  private readonly maxBytes: number;
  constructor(options: HTTPReceiverOptions, guard: Omit<GuardOptions, 'signingSecret'>) {
    super(options);
    this.maxBytes = guard.limits.maxBytes;
    this.requestListener = guardRequests(
      { ...guard, signingSecret: options.signingSecret },
      this.requestListener,
    );
  }

  // biome-ignore lint/suspicious/noExplicitAny: HTTPReceiver#start is overloaded (http and https servers)
  override async start(...args: any[]): Promise<any> {
    const start = HTTPReceiver.prototype.start as (...a: unknown[]) => Promise<Server>;
    const server = await start.apply(this, args);
    refuseLargeContinues(server, this.maxBytes);
    return server;
  }
}
