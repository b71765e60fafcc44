/**
 * Bounded request bodies for `heal web` (issue 13). A body is read only up to its cap: Content-Length over
 * the cap is refused before a byte is read, a stream that passes it is refused at that chunk, a body that
 * trickles in slower than the deadline is refused, and all bodies being read at once share one budget.
 * Refusals reach the client: the answer is flushed, the rest of the upload is discarded for a short
 * linger, and only then is the socket closed (closing with unread bytes would reset the connection and
 * lose the answer).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Why a body was not read: 413 too large, 408 too slow, 503 the process-wide budget is spent, 400 aborted. */
export class BodyError extends Error {
  constructor(
    readonly status: 400 | 408 | 413 | 503,
    readonly code: 'too_large' | 'timeout' | 'busy' | 'aborted',
    message: string,
  ) {
    super(message);
  }
}

/** Bytes held by all bodies being read at once; a chunk that would pass the total fails its read (503). */
export class BodyBudget {
  private used = 0;
  constructor(readonly totalBytes: number) {}
  take(n: number): boolean {
    if (this.used + n > this.totalBytes) return false;
    this.used += n;
    return true;
  }
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
  /** Bytes currently held (for tests and logs). */
  get held(): number {
    return this.used;
  }
}

export interface BodyLimits {
  /** Largest body accepted, in bytes (HEAL_MAX_BODY_BYTES). */
  maxBytes: number;
  /** The whole body must arrive within this many ms of the first read. */
  timeoutMs: number;
  budget?: BodyBudget;
}

/** After a refusal, the rest of an upload is read and dropped for at most this long or this many bytes. */
export const LINGER = { ms: 2_000, bytes: 16 * 1024 * 1024 };

/** Whether the request's Content-Length already says the body is larger than `maxBytes`. */
export function declaredTooLarge(req: IncomingMessage, maxBytes: number): boolean {
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) > maxBytes;
}

/** The 413 refusal of a body over `maxBytes`. */
export function tooLarge(maxBytes: number): BodyError {
  return new BodyError(413, 'too_large', `body is larger than ${maxBytes} bytes`);
}

/** Reads the whole body within `limits`; never holds more than `maxBytes` of it. */
export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  if (declaredTooLarge(req, limits.maxBytes)) return Promise.reject(tooLarge(limits.maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: BodyError | undefined) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('aborted', onAbort);
      limits.budget?.give(size);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (c: Buffer) => {
      if (size + c.length > limits.maxBytes) return finish(tooLarge(limits.maxBytes));
      if (limits.budget && !limits.budget.take(c.length))
        return finish(new BodyError(503, 'busy', 'too many request bodies are being read at once; retry'));
      size += c.length;
      chunks.push(c);
    };
    const onEnd = () => finish(undefined);
    const onAbort = () => finish(new BodyError(400, 'aborted', 'the request was aborted'));
    const timer = setTimeout(
      () => finish(new BodyError(408, 'timeout', `body did not arrive within ${limits.timeoutMs} ms`)),
      limits.timeoutMs,
    );
    req.on('data', onData).on('end', onEnd).on('error', onAbort).on('aborted', onAbort);
  });
}

/**
 * Answers `status` and closes politely. When the upload is not finished, the whole answer is written (its
 * Content-Length set) but the response is ended only after the rest of the upload was discarded (never
 * buffered) until it ends, LINGER.ms pass or LINGER.bytes were dropped; then the socket is closed. Ending
 * it at once would let Node close the socket with unread bytes, which resets the connection: the client
 * gets ECONNRESET / EPIPE instead of the answer.
 */
export function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: Record<string, unknown> | undefined,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const text = body ? `${JSON.stringify(body)}\n` : '';
  res.writeHead(status, {
    ...(body ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  if (req.complete || req.destroyed) {
    res.end(text);
    return;
  }
  res.write(text);
  linger(req, res);
}

/** Drops the rest of an upload, then ends the response; the socket is destroyed unless the upload ended. */
function linger(req: IncomingMessage, res: ServerResponse): void {
  let dropped = 0;
  let done = false;
  const finish = (uploadEnded: boolean) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    req.off('data', onData);
    res.end(() => {
      if (!uploadEnded) req.socket.destroy();
    });
  };
  const onData = (c: Buffer) => {
    dropped += c.length;
    if (dropped > LINGER.bytes) finish(false);
  };
  const timer = setTimeout(() => finish(false), LINGER.ms);
  timer.unref();
  req.on('data', onData);
  req.once('end', () => finish(true));
  req.socket.once('close', () => finish(true));
  req.resume();
}
