import { ok, type Upstream, upstreamError } from '../../core/upstream.ts';
import { describeFetchError, openUrl } from '../http.ts';
import { LogFilter as BaseLogFilter, type LogFilterOptions as BaseOptions, pumpBody } from '../logs.ts';
import type { AdapterContext } from '../types.ts';
import { LOG_CONTEXT_LINES, LOG_PATTERNS } from './patterns.ts';
import type { LogExcerpt } from './schema.ts';

/** Knobs of the Spark line filter; defaults come from patterns.ts. */
export type LogFilterOptions = Partial<BaseOptions>;

/** The shared bounded-memory line filter (../logs.ts) with the Spark log patterns as defaults. */
export class LogFilter extends BaseLogFilter {
  constructor(opts: LogFilterOptions = {}) {
    super({ ...opts, patterns: opts.patterns ?? LOG_PATTERNS, context: opts.context ?? LOG_CONTEXT_LINES });
  }
}

const ALLOW_HINT =
  'executor logs live on the YARN NodeManagers / Spark workers: allow their hosts with HEAL_FETCH_ALLOW_HOSTS (e.g. *.nodemanager.corp:8042)';

/** Which log to read: the executor (or `driver`), the stream name and its absolute URL. */
export interface LogRequest {
  executorId: string;
  stream: string;
  url: string;
}

export interface StreamLogOptions extends LogFilterOptions {
  /** Stop after this many bytes (default config.HEAL_LOG_MAX_BYTES). */
  maxBytes?: number;
  /** Told when a read was cut short by a network problem (the excerpt so far is still returned). */
  onNote?: (note: string) => void;
}

/**
 * YARN log links carry `start=-4096` (the last 4 KiB only); ask for the whole log instead, since it
 * is streamed and filtered anyway.
 */
export function fullLogUrl(url: string): string {
  try {
    const u = new URL(url);
    const start = u.searchParams.get('start');
    if (start && /^-\d+$/.test(start)) u.searchParams.set('start', '0');
    return u.href;
  } catch {
    return url;
  }
}

/**
 * Streams one executor/driver log over HTTP with bounded memory: reads the body chunk by chunk,
 * keeps only matching lines with context (see LogFilter) and stops after `maxBytes` (truncated).
 * Never holds the whole log in memory; never throws for upstream problems.
 */
export async function streamLog(
  req: LogRequest,
  ctx: AdapterContext,
  opts: StreamLogOptions = {},
): Promise<Upstream<LogExcerpt>> {
  const what = `Spark ${req.executorId === 'driver' ? 'driver' : `executor ${req.executorId}`} ${req.stream} log`;
  const opened = await openUrl(req.url, what, ctx, 'text/plain, text/html;q=0.9, */*;q=0.5');
  if (!opened.ok && opened.refusal === 'not_allowed' && opened.result.status === 'error')
    return upstreamError(`${opened.result.message}; ${ALLOW_HINT}`, false);
  if (!opened.ok) return opened.result;
  const { res } = opened;
  const html = /html/i.test(res.headers.get('content-type') ?? '');
  const filter = new LogFilter({ ...opts, html: opts.html ?? html });
  const maxBytes = opts.maxBytes ?? ctx.config.HEAL_LOG_MAX_BYTES;
  const read = await pumpBody(res, filter, maxBytes);
  filter.end();
  if (read.error) {
    const why = describeFetchError(read.error, ctx);
    if (read.bytes === 0) return upstreamError(`${what} failed while reading: ${why}`, true);
    opts.onNote?.(`${what}: read stopped after ${read.bytes} bytes (${why}); later lines not scanned`);
  }
  const excerpt: LogExcerpt = {
    executorId: req.executorId,
    stream: req.stream,
    url: req.url,
    lines: filter.lines(),
    bytesRead: read.bytes,
    truncated: read.truncated || read.error !== undefined,
  };
  return ok(excerpt);
}
