import type { z } from 'zod';
import { redact } from '../core/redact.ts';
import { noData, ok, type Upstream, upstreamError } from '../core/upstream.ts';
import { checkEgress, EgressRefusedError, egressPolicy, type Refusal, shownUrl } from './egress.ts';
import { type HopRequest, sendHop } from './request.ts';
import type { AdapterContext } from './types.ts';

const SNIPPET_CHARS = 300;
/** Largest JSON body read before giving up on it. */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

/** Redirects followed by openUrl, each re-checked against the egress policy. */
export const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * A response whose headers arrived, or the upstream problem that prevented it; `refusal` says when the egress
 * policy refused the URL (or a redirect) before any request was made to it.
 */
export type Opened = { ok: true; res: Response } | { ok: false; result: Upstream<never>; refusal?: Refusal };

/** Extra request options: method, headers (auth), a JSON body. */
export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One signal for a request: the per-request timeout combined with the caller's abort signal. */
export function requestSignal(ctx: AdapterContext): AbortSignal {
  const timeout = AbortSignal.timeout(ctx.config.HEAL_HTTP_TIMEOUT_MS);
  return ctx.signal ? AbortSignal.any([timeout, ctx.signal]) : timeout;
}

/** Plain words for a fetch failure (connection refused, timeout, DNS, reset, cancelled). */
export function describeFetchError(err: unknown, ctx: AdapterContext): string {
  // undici rejects with the signal's reason on timeout or abort, and wraps network errors as
  // `TypeError: fetch failed` (or `terminated`, mid-body) with the underlying error as `cause`.
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `timed out after ${ctx.config.HEAL_HTTP_TIMEOUT_MS} ms`;
  if (e?.name === 'AbortError') return 'request cancelled';
  const code = e?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connection timed out';
  const detail = e?.cause?.message ?? e?.message ?? String(err);
  if (code === 'HEAL_EGRESS_REFUSED') return detail; // the refusal's own words: host, address, why
  return code ? `${code}: ${detail}` : detail;
}

/** A short, redacted, single-line snippet of an upstream body (HTML tags dropped), for debug logs only. */
export function bodySnippet(text: string): string {
  const flat = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat;
  return redact(cut);
}

/**
 * Maps a non-2xx status to an upstream result: 404 no_data, 5xx/429 retryable, other 4xx permanent. The
 * message is what failed and the status line only: an error body can carry internal host names, stack traces
 * or secrets, and messages become gaps in Slack (the body goes to the debug log, see openUrl).
 */
export function statusResult(what: string, res: { status: number; statusText?: string }): Upstream<never> {
  const message = `${what} failed: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  if (res.status === 404) return noData(message, 404);
  return upstreamError(message, res.status >= 500 || res.status === 429, res.status);
}

/**
 * Opens an http(s) URL with the request timeout, following at most {@link MAX_REDIRECTS} redirects itself.
 * Every hop (the first URL and each Location) must pass the egress policy (egress.ts) before it is requested,
 * and host names are checked again on the address connected to; a refused URL is an error result naming it,
 * never a request. Never throws for network problems.
 */
export async function openUrl(
  url: string,
  what: string,
  ctx: AdapterContext,
  accept: string,
  opts: RequestOptions = {},
): Promise<Opened> {
  const policy = egressPolicy(ctx.config);
  const signal = requestSignal(ctx);
  let req: HopRequest = { method: opts.method ?? 'GET', headers: { accept, ...opts.headers }, signal };
  if (opts.body !== undefined) req.body = opts.body;
  let current = url;
  let from: string | undefined;
  for (let hop = 0; ; hop++) {
    const verdict = checkEgress(current, policy);
    if (!verdict.ok) return refused(what, current, from, verdict.refusal, verdict.reason);
    let res: Response;
    try {
      res = await sendHop(verdict.url, req);
    } catch (err) {
      const cause = (err as { cause?: unknown })?.cause;
      if (cause instanceof EgressRefusedError)
        return refused(what, current, from, 'forbidden', cause.message);
      return { ok: false, result: upstreamError(`${what} failed: ${describeFetchError(err, ctx)}`, true) };
    }
    const location = REDIRECTS.has(res.status) ? res.headers.get('location') : null;
    if (location === null) return settle(what, res, ctx);
    discard(res);
    const next = nextHop(verdict.url, location, res.status, req);
    if (!next || hop >= MAX_REDIRECTS) {
      const why = next
        ? `more than ${MAX_REDIRECTS} redirects`
        : `HTTP ${res.status} with an invalid Location`;
      return { ok: false, result: upstreamError(`${what} failed: ${why}`, false, res.status) };
    }
    from = from ?? current;
    current = next.url;
    req = next.req;
  }
}

/** The request for a redirect's target, as fetch would make it; undefined when Location is not a URL. */
function nextHop(
  base: URL,
  location: string,
  status: number,
  req: HopRequest,
): { url: string; req: HopRequest } | undefined {
  let target: URL;
  try {
    target = new URL(location, base);
  } catch {
    return undefined;
  }
  const next: HopRequest = { ...req, headers: { ...req.headers } };
  const drop = (names: string[]) => {
    next.headers = Object.fromEntries(
      Object.entries(next.headers).filter(([k]) => !names.includes(k.toLowerCase())),
    );
  };
  if (status === 303 ? req.method !== 'HEAD' : (status === 301 || status === 302) && req.method === 'POST') {
    next.method = 'GET';
    delete next.body;
    drop(['content-type']);
  }
  // Credentials never follow a redirect to another origin, even an allowed one.
  if (target.origin !== base.origin) drop(['authorization', 'cookie']);
  return { url: target.href, req: next };
}

function refused(
  what: string,
  url: string,
  from: string | undefined,
  refusal: Refusal,
  reason: string,
): Opened {
  const where = from ? `${shownUrl(from)}, redirected to ${shownUrl(url)}` : shownUrl(url);
  return { ok: false, refusal, result: upstreamError(`${what} not fetched (${where}): ${reason}`, false) };
}

/** Drops an unread body, which would otherwise hold its connection until garbage collected. */
function discard(res: Response): void {
  res.body?.cancel().catch(() => {});
}

async function settle(what: string, res: Response, ctx: AdapterContext): Promise<Opened> {
  if (res.ok) return { ok: true, res };
  if (ctx.log.isLevelEnabled?.('debug') && res.body) {
    const body = await readText(res, 64 * 1024).then(
      (b) => b.text,
      () => '',
    );
    ctx.log.debug({ what, status: res.status, body: bodySnippet(body) }, 'upstream error body');
  } else discard(res);
  return { ok: false, result: statusResult(what, res) };
}

/** Reads a body as text up to `maxBytes`, cancelling the rest. */
export async function readText(
  res: Response,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), truncated: false };
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel().catch(() => {});
      return { text, truncated: true };
    }
    text += decoder.decode(value, { stream: true });
  }
}

/** The first few zod issues in plain words. */
export function zodProblem(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Reads an opened response as JSON and parses it with `schema`: oversized, malformed or unexpectedly
 * shaped bodies become error results naming `what`.
 */
export async function parseJsonBody<S extends z.ZodType>(
  res: Response,
  what: string,
  schema: S,
  ctx: AdapterContext,
): Promise<Upstream<z.output<S>>> {
  let body: { text: string; truncated: boolean };
  try {
    body = await readText(res, MAX_JSON_BYTES);
  } catch (err) {
    return upstreamError(`${what} failed while reading: ${describeFetchError(err, ctx)}`, true);
  }
  if (body.truncated)
    return upstreamError(`${what} failed: response larger than ${MAX_JSON_BYTES} bytes`, false);
  let json: unknown;
  try {
    json = JSON.parse(body.text);
  } catch (err) {
    // V8 quotes the start of the body in its message ("<html>..." is not valid JSON): keep that out too.
    const why = (err instanceof Error ? err.message : String(err)).replace(/"[\s\S]*"(\.\.\.)?/, '…');
    ctx.log.debug({ what, body: bodySnippet(body.text) }, 'malformed JSON body');
    return upstreamError(`${what} returned malformed JSON (${why})`, false);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    return upstreamError(`${what} returned an unexpected shape: ${zodProblem(parsed.error)}`, false);
  return ok(parsed.data);
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
