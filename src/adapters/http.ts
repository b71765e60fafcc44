import type { z } from 'zod';
import { redact } from '../core/redact.ts';
import { noData, ok, type Upstream, upstreamError } from '../core/upstream.ts';
import type { AdapterContext } from './types.ts';

const SNIPPET_CHARS = 300;
/** Largest JSON body read before giving up on it. */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

/** A response whose headers arrived, or the upstream problem that prevented it. */
export type Opened = { ok: true; res: Response } | { ok: false; result: Upstream<never> };

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
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `timed out after ${ctx.config.HEAL_HTTP_TIMEOUT_MS} ms`;
  if (e?.name === 'AbortError') return 'request cancelled';
  const code = e?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  const detail = e?.cause?.message ?? e?.message ?? String(err);
  return code ? `${code}: ${detail}` : detail;
}

/** A short, redacted, single-line snippet of an upstream body (HTML tags dropped). */
export function bodySnippet(text: string): string {
  const flat = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat;
  return redact(cut);
}

/** Maps a non-2xx status to an upstream result: 404 no_data, 5xx/429 retryable, other 4xx permanent. */
export function statusResult(what: string, res: Response, body: string): Upstream<never> {
  const snippet = bodySnippet(body);
  const message = `${what} failed: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${snippet ? `: ${snippet}` : ''}`;
  if (res.status === 404) return noData(message, 404);
  return upstreamError(message, res.status >= 500 || res.status === 429, res.status);
}

/** Opens an http(s) URL with the request timeout; never throws for network problems. */
export async function openUrl(
  url: string,
  what: string,
  ctx: AdapterContext,
  accept: string,
  opts: RequestOptions = {},
): Promise<Opened> {
  if (!/^https?:\/\//i.test(url))
    return { ok: false, result: upstreamError(`${what} skipped: not an http(s) URL (${url})`, false) };
  try {
    const res = await fetch(url, {
      method: opts.method ?? 'GET',
      signal: requestSignal(ctx),
      headers: { accept, ...opts.headers },
      redirect: 'follow',
      ...(opts.body === undefined ? {} : { body: opts.body }),
    });
    if (res.ok) return { ok: true, res };
    const body = await readText(res, 64 * 1024).then(
      (b) => b.text,
      () => '',
    );
    return { ok: false, result: statusResult(what, res, body) };
  } catch (err) {
    return { ok: false, result: upstreamError(`${what} failed: ${describeFetchError(err, ctx)}`, true) };
  }
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
    const why = err instanceof Error ? err.message : String(err);
    return upstreamError(`${what} returned malformed JSON (${why}): ${bodySnippet(body.text)}`, false);
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
