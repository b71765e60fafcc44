import { ErrorCode, LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import type { Logger } from '../core/logger.ts';

/** Slack error codes worth retrying later (besides HTTP 5xx, 429 and network failures). */
const RETRYABLE_CODES = new Set([
  'ratelimited',
  'rate_limited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/** A Web API call that did not come back `ok: true`. `code` is Slack's error code (or `http_<status>`). */
export class SlackApiError extends Error {
  constructor(
    readonly method: string,
    readonly code: string,
    /** True for rate limits, 5xx and network failures: the job may retry; false for e.g. `channel_not_found`. */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(`Slack ${method} failed: ${code}`, options);
    this.name = 'SlackApiError';
  }
}

/**
 * Seconds to wait when WebClient reports an HTTP 429 (`rejectRateLimitedCalls: true` turns it into a
 * RateLimitedError carrying the Retry-After header), else undefined.
 */
export function retryAfterSeconds(err: unknown): number | undefined {
  const e = err as { code?: unknown; retryAfter?: unknown } | null;
  if (e?.code !== ErrorCode.RateLimitedError) return undefined;
  const s = Number(e.retryAfter);
  return Number.isFinite(s) && s >= 0 ? s : 1;
}

/** Maps whatever WebClient threw to a {@link SlackApiError} with Slack's own error code. */
export function toSlackApiError(method: string, err: unknown): SlackApiError {
  if (err instanceof SlackApiError) return err;
  const e = err as { code?: unknown; data?: { error?: unknown }; statusCode?: unknown; message?: unknown };
  const opts = { cause: err };
  switch (e?.code) {
    case ErrorCode.PlatformError: {
      const code = String(e.data?.error ?? 'unknown_error');
      return new SlackApiError(method, code, RETRYABLE_CODES.has(code), opts);
    }
    case ErrorCode.HTTPError: {
      const status = Number(e.statusCode);
      return new SlackApiError(method, `http_${status}`, status >= 500 || status === 429, opts);
    }
    case ErrorCode.RequestError:
      return new SlackApiError(method, 'request_error', true, opts);
    case ErrorCode.RateLimitedError:
      return new SlackApiError(method, 'ratelimited', true, opts);
  }
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (/rate limit/i.test(message)) return new SlackApiError(method, 'ratelimited', true, opts);
  return new SlackApiError(method, 'unknown_error', false, opts);
}

/** WebClient's logger interface over Heal's pino logger. */
export function slackLogger(log: Logger | undefined): SlackLogger {
  const line = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  const child = log?.child({ component: 'slack-web-api' });
  return {
    debug: (...m) => child?.debug(line(m)),
    info: (...m) => child?.info(line(m)),
    warn: (...m) => (child ? child.warn(line(m)) : process.stderr.write(`slack: ${line(m)}\n`)),
    error: (...m) => (child ? child.error(line(m)) : process.stderr.write(`slack: ${line(m)}\n`)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}
