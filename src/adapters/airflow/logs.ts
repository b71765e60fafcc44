import { ok, type Upstream, upstreamError } from '../../core/upstream.ts';
import { describeFetchError, readText } from '../http.ts';
import { LogFilter, pumpBody } from '../logs.ts';
import type { AdapterContext } from '../types.ts';
import type { AirflowClient } from './client.ts';
import { tiPath } from './client.ts';
import { NdjsonToText, renderMessage } from './logrender.ts';
import { LOG_CONTEXT_LINES, LOG_PATTERNS } from './patterns.ts';
import { LogContent, type TryLog } from './schema.ts';

export { renderMessage };

/** Most pages of one log followed through continuation tokens. */
const MAX_PAGES = 8;
/** Airflow 3 (log.py) sends the token of an ndjson answer in this header, JSON answers in the body. */
const TOKEN_HEADER = 'airflow-continuation-token';

/** Thrown inside the ndjson sink to stop reading a page that replays the log from its start. */
const REPLAY = Symbol('replay');

async function openLog(client: AirflowClient, path: string, what: string) {
  if (client.major === 2) return client.open(path, 'text/plain', what);
  const opened = await client.open(path, 'application/x-ndjson', what);
  // Airflow 3 answers 406 to anything but JSON / ndjson; an older 3.x may not stream ndjson.
  if (!opened.ok && opened.result.status === 'error' && opened.result.httpStatus === 406)
    return client.open(path, 'application/json', what);
  return opened;
}

/**
 * Whether following a continuation token can bring anything new. Tokens are itsdangerous
 * `URLSafeSerializer` dumps (`base64url(json).signature`) of the reader's metadata; log.py computes the
 * ndjson header before the stream runs, so it often carries only `download_logs` (the request's own
 * metadata), and following it re-reads the log from its start. Unreadable tokens are followed.
 */
export function tokenAdvances(token: string): boolean {
  const payload = token.split('.')[0];
  if (!payload) return true;
  try {
    const meta = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    if (!meta || typeof meta !== 'object' || Array.isArray(meta)) return true;
    const m = meta as Record<string, unknown>;
    return m.end_of_log !== true && Object.keys(m).some((k) => k !== 'download_logs' && k !== 'end_of_log');
  } catch {
    return true;
  }
}

/** What reading the pages of one log has gathered so far. */
interface Pages {
  filter: LogFilter;
  maxBytes: number;
  bytes: number;
  /** The byte budget cut the log. */
  cut: boolean;
  /** The first raw lines / messages of page 1, to recognise a later page that starts over. */
  first: string[];
}

/** One page read: the token to follow, or why reading stopped (a read error, a bad body, a note). */
interface PageRead {
  token?: string;
  readError?: unknown;
  bad?: string;
  note?: string;
}

async function readNdjson(res: Response, st: Pages, page: number): Promise<PageRead> {
  let seen = false;
  const conv = new NdjsonToText(st.filter, (raw) => {
    if (page > 1 && !seen && st.first.includes(raw)) throw REPLAY;
    seen = true;
    return true;
  });
  const read = await pumpBody(res, conv, st.maxBytes - st.bytes);
  if (read.error === REPLAY) return {};
  conv.flush();
  if (page === 1) st.first = conv.firstLines;
  st.bytes += read.bytes;
  st.cut ||= read.truncated;
  if (read.error) return { readError: read.error };
  if (conv.stopped)
    return { note: 'Airflow stopped the log stream before its end marker; logs may be incomplete' };
  return read.bytes > 0 ? { token: res.headers.get(TOKEN_HEADER) ?? undefined } : {};
}

async function readJson(res: Response, st: Pages, page: number): Promise<PageRead> {
  const body = await readText(res, st.maxBytes - st.bytes).catch((e: unknown) => ({ error: e }));
  if ('error' in body) return { readError: body.error };
  st.bytes += Buffer.byteLength(body.text);
  st.cut ||= body.truncated;
  let json: unknown;
  try {
    json = JSON.parse(body.text);
  } catch {
    json = undefined;
  }
  const parsed = LogContent.safeParse(json);
  // A body cut by the byte budget does not parse: on a later page that is the budget's note, not a fault.
  if (!parsed.success)
    return body.truncated && page > 1 ? {} : { bad: 'returned an unexpected shape (not a log)' };
  const { content, continuation_token: token } = parsed.data;
  const items =
    typeof content === 'string' ? (content ? [content] : []) : content.map((m) => JSON.stringify(m));
  if (!items.length || (page > 1 && st.first.includes(items[0] as string))) return {};
  if (page === 1) st.first = items.slice(0, 8);
  if (typeof content === 'string') st.filter.push(content.endsWith('\n') ? content : `${content}\n`);
  else for (const m of content) for (const l of renderMessage(m)) st.filter.push(`${l}\n`);
  return { token: token ?? undefined };
}

async function readPlain(res: Response, st: Pages): Promise<PageRead> {
  const read = await pumpBody(res, st.filter, st.maxBytes - st.bytes);
  st.bytes += read.bytes;
  st.cut ||= read.truncated;
  return read.error ? { readError: read.error } : {};
}

function readPage(res: Response, st: Pages, page: number): Promise<PageRead> {
  const type = res.headers.get('content-type') ?? '';
  if (/ndjson/i.test(type)) return readNdjson(res, st, page);
  if (/json/i.test(type)) return readJson(res, st, page);
  return readPlain(res, st);
}

/** The token to follow after a page, or undefined when the log is complete (or cannot advance). */
function nextToken(read: PageRead, prev: string | undefined, st: Pages): string | undefined {
  const t = read.token;
  if (!t || t === prev || st.cut || st.bytes >= st.maxBytes || !tokenAdvances(t)) return undefined;
  return t;
}

/**
 * Reads the pages of one log into `st`, following continuation tokens. Resolves to whether reading
 * stopped early (a later page failed, the stream broke, too many pages), or to the upstream problem
 * when nothing could be read at all.
 */
async function readPages(
  client: AirflowClient,
  ctx: AdapterContext,
  at: { path: string; what: string },
  st: Pages,
  onNote: (note: string) => void,
): Promise<boolean | Upstream<never>> {
  const { path, what } = at;
  let token: string | undefined;
  for (let page = 1; page <= MAX_PAGES; page++) {
    const opened = await openLog(client, token ? `${path}&token=${encodeURIComponent(token)}` : path, what);
    if (!opened.ok) {
      if (page === 1) return opened.result;
      onNote(`${what}: page ${page} could not be read; later lines not scanned`);
      return true;
    }
    const read = await readPage(opened.res, st, page);
    if (read.readError !== undefined && st.bytes === 0)
      return upstreamError(`${what} failed while reading: ${describeFetchError(read.readError, ctx)}`, true);
    if (read.bad && page === 1) return upstreamError(`${what} ${read.bad}`, false);
    const stop =
      read.readError !== undefined ? `read stopped after ${st.bytes} bytes` : (read.bad ?? read.note);
    if (stop) {
      onNote(`${what}: ${stop}; later lines not scanned`);
      return true;
    }
    const next = nextToken(read, token, st);
    if (!next) return false;
    token = next;
  }
  onNote(`${what}: more than ${MAX_PAGES} pages; later pages not read`);
  return true;
}

/**
 * Streams the log of one try of one task with bounded memory, keeping relevant lines with context
 * (redacted). Airflow 2 text logs and Airflow 3 structured logs (ndjson, or JSON `content`) alike;
 * continuation tokens (Airflow 3 ndjson: `Airflow-Continuation-Token` header; JSON: `continuation_token`)
 * are followed for at most MAX_PAGES pages within HEAL_LOG_MAX_BYTES in all.
 */
export async function streamTryLog(
  client: AirflowClient,
  ctx: AdapterContext,
  req: {
    dagId: string;
    runId: string;
    taskId: string;
    tryNumber: number;
    baseline?: boolean;
    mapIndex?: number;
  },
  onNote: (note: string) => void,
): Promise<Upstream<TryLog>> {
  const mapped = req.mapIndex !== undefined && req.mapIndex >= 0 ? `&map_index=${req.mapIndex}` : '';
  const path = `${tiPath(req.dagId, req.runId, req.taskId)}/logs/${req.tryNumber}?full_content=true${mapped}`;
  const what = `Airflow log of ${req.taskId} try ${req.tryNumber}${req.baseline ? ` (run ${req.runId})` : ''}`;
  const st: Pages = {
    filter: new LogFilter({ patterns: LOG_PATTERNS, context: LOG_CONTEXT_LINES }),
    maxBytes: ctx.config.HEAL_LOG_MAX_BYTES,
    bytes: 0,
    cut: false,
    first: [],
  };
  const broken = await readPages(client, ctx, { path, what }, st, onNote);
  if (typeof broken !== 'boolean') return broken;
  st.filter.end();
  if (st.cut) onNote(`${what}: longer than ${st.maxBytes} bytes, the rest was not read`);
  return ok({
    taskId: req.taskId,
    tryNumber: req.tryNumber,
    lines: st.filter.lines(),
    bytesRead: st.bytes,
    truncated: st.cut || broken,
    ref: `${client.apiRoot}${path}`,
    baseline: req.baseline ?? false,
  });
}
