import { ok, type Upstream, upstreamError } from '../../core/upstream.ts';
import { describeFetchError, readText } from '../http.ts';
import { LogFilter, pumpBody } from '../logs.ts';
import type { AdapterContext } from '../types.ts';
import type { AirflowClient } from './client.ts';
import { tiPath } from './client.ts';
import { LOG_CONTEXT_LINES, LOG_PATTERNS } from './patterns.ts';
import { LogContent, LogMessage, type TryLog } from './schema.ts';

/** Longest single ndjson message kept while streaming (longer ones are cut). */
const MAX_MESSAGE_CHARS = 256 * 1024;

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));

/** Renders one Airflow 3 structured message as text lines, `error_detail` as a Python traceback. */
export function renderMessage(raw: unknown): string[] {
  const parsed = LogMessage.safeParse(raw);
  if (!parsed.success) return [text(raw)];
  const m = parsed.data;
  const head = [m.timestamp ? `[${m.timestamp}]` : '', m.level ? m.level.toUpperCase() : '', m.logger ?? '']
    .filter(Boolean)
    .join(' ');
  const lines = [`${head}${head ? ' - ' : ''}${text(m.event)}`];
  for (const e of m.error_detail ?? []) {
    lines.push('Traceback (most recent call last):');
    for (const f of (e.frames ?? []).slice(-6))
      lines.push(`  File "${f.filename ?? '?'}", line ${f.lineno ?? '?'}, in ${f.name ?? '?'}`);
    lines.push(`${e.exc_type ?? 'Exception'}: ${e.exc_value ?? ''}`);
  }
  return lines;
}

/** Feeds ndjson chunks to the filter as rendered text lines, one message at a time. */
class NdjsonToText {
  private partial = '';
  constructor(private readonly filter: LogFilter) {}

  push(chunk: string): void {
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', pos);
      const piece = nl === -1 ? chunk.slice(pos) : chunk.slice(pos, nl);
      if (this.partial.length < MAX_MESSAGE_CHARS) this.partial += piece.slice(0, MAX_MESSAGE_CHARS);
      if (nl === -1) return;
      this.flush();
      pos = nl + 1;
    }
  }

  flush(): void {
    const line = this.partial.trim();
    this.partial = '';
    if (!line) return;
    let msg: unknown = line;
    try {
      msg = JSON.parse(line);
    } catch {
      // a cut or non-JSON line is kept as text
    }
    for (const l of renderMessage(msg)) this.filter.push(`${l}\n`);
  }
}

function pushContent(filter: LogFilter, content: string | unknown[]): void {
  if (typeof content === 'string') filter.push(content);
  else for (const m of content) for (const l of renderMessage(m)) filter.push(`${l}\n`);
}

async function openLog(client: AirflowClient, path: string, what: string) {
  if (client.major === 2) return client.open(path, 'text/plain', what);
  const opened = await client.open(path, 'application/x-ndjson', what);
  // Airflow 3 answers 406 to anything but JSON / ndjson; an older 3.x may not stream ndjson.
  if (!opened.ok && opened.result.status === 'error' && opened.result.httpStatus === 406)
    return client.open(path, 'application/json', what);
  return opened;
}

/**
 * Streams the log of one try of one task with bounded memory, keeping relevant lines with context
 * (redacted). Airflow 2 text logs and Airflow 3 structured logs (ndjson, or JSON `content`) alike.
 */
export async function streamTryLog(
  client: AirflowClient,
  ctx: AdapterContext,
  req: { dagId: string; runId: string; taskId: string; tryNumber: number; baseline?: boolean },
  onNote: (note: string) => void,
): Promise<Upstream<TryLog>> {
  const path = `${tiPath(req.dagId, req.runId, req.taskId)}/logs/${req.tryNumber}?full_content=true`;
  const what = `Airflow log of ${req.taskId} try ${req.tryNumber}${req.baseline ? ` (run ${req.runId})` : ''}`;
  const opened = await openLog(client, path, what);
  if (!opened.ok) return opened.result;
  const { res } = opened;
  const filter = new LogFilter({ patterns: LOG_PATTERNS, context: LOG_CONTEXT_LINES });
  const maxBytes = ctx.config.HEAL_LOG_MAX_BYTES;
  const type = res.headers.get('content-type') ?? '';
  let bytes = 0;
  let truncated = false;
  if (/ndjson/i.test(type)) {
    const conv = new NdjsonToText(filter);
    const read = await pumpBody(res, conv, maxBytes);
    conv.flush();
    if (read.error && read.bytes === 0)
      return upstreamError(`${what} failed while reading: ${describeFetchError(read.error, ctx)}`, true);
    if (read.error) onNote(`${what}: read stopped after ${read.bytes} bytes; later lines not scanned`);
    ({ bytes, truncated } = { bytes: read.bytes, truncated: read.truncated || read.error !== undefined });
  } else if (/json/i.test(type)) {
    const body = await readText(res, maxBytes).catch(() => undefined);
    if (!body) return upstreamError(`${what} failed while reading`, true);
    let json: unknown;
    try {
      json = JSON.parse(body.text);
    } catch {
      json = undefined;
    }
    const parsed = LogContent.safeParse(json);
    if (!parsed.success) return upstreamError(`${what} returned an unexpected shape (not a log)`, false);
    pushContent(filter, parsed.data.content);
    ({ bytes, truncated } = { bytes: body.text.length, truncated: body.truncated });
  } else {
    const read = await pumpBody(res, filter, maxBytes);
    if (read.error && read.bytes === 0)
      return upstreamError(`${what} failed while reading: ${describeFetchError(read.error, ctx)}`, true);
    if (read.error) onNote(`${what}: read stopped after ${read.bytes} bytes; later lines not scanned`);
    ({ bytes, truncated } = { bytes: read.bytes, truncated: read.truncated || read.error !== undefined });
  }
  filter.end();
  if (truncated && !/read stopped/.test(what))
    onNote(`${what}: longer than ${maxBytes} bytes, the rest was not read`);
  return ok({
    taskId: req.taskId,
    tryNumber: req.tryNumber,
    lines: filter.lines(),
    bytesRead: bytes,
    truncated,
    ref: `${client.apiRoot}${path}`,
    baseline: req.baseline ?? false,
  });
}
