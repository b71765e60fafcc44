import { z } from 'zod';
import type { LogFilter } from '../logs.ts';

/** Longest single ndjson message kept while streaming (longer ones are cut). */
const MAX_MESSAGE_CHARS = 256 * 1024;
/** Longest rendered value of one structured field. */
const MAX_FIELD_CHARS = 600;
/** Frames kept per exception (the innermost ones). */
const MAX_FRAMES = 8;

const optStr = z.string().nullish();

/** One exception of structlog's dict traceback (`error_detail`, or `exception` before the supervisor). */
const ExcInfo = z
  .object({
    exc_type: optStr,
    exc_value: optStr,
    is_cause: z.boolean().nullish(),
    frames: z
      .array(z.object({ filename: optStr, lineno: z.number().nullish(), name: optStr }).loose())
      .nullish(),
  })
  .loose();

/**
 * One Airflow 3 structured log message (`StructuredLogMessage`: `timestamp` and `event`, then any fields,
 * `extra="allow"`): supervisor.py puts `signal`, `signal_name`, `exit_code`, `detail` … in fields.
 */
const Message = z
  .object({
    timestamp: optStr,
    level: optStr,
    event: z.unknown(),
    logger: optStr,
    error_detail: z.array(ExcInfo).nullish(),
  })
  .loose();

/** Fields shown elsewhere in the line, or noise for diagnosis (the call site of the log call). */
const SKIP = new Set([
  'timestamp',
  'level',
  'event',
  'logger',
  'error_detail',
  'exception',
  'filename',
  'lineno',
  'loc',
]);

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));

function fieldValue(v: unknown): string {
  const s = typeof v === 'string' ? (/[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v) : text(v);
  return s.length > MAX_FIELD_CHARS ? `${s.slice(0, MAX_FIELD_CHARS)}…` : s;
}

/** The structured fields of a message as a ` key=value …` suffix (empty when there are none). */
function fieldSuffix(m: Record<string, unknown>): string {
  const parts = Object.entries(m)
    .filter(([k, v]) => !SKIP.has(k) && v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${fieldValue(v)}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

/**
 * A structlog dict traceback as Python prints it: structlog lists the raised exception first and its
 * causes after it, Python prints the causes first, so the raised exception's line comes last.
 */
export function renderTraceback(excs: z.infer<typeof ExcInfo>[]): string[] {
  const lines: string[] = [];
  const ordered = [...excs].reverse();
  ordered.forEach((e, i) => {
    if (i > 0)
      lines.push(
        ordered[i - 1]?.is_cause
          ? 'The above exception was the direct cause of the following exception:'
          : 'During handling of the above exception, another exception occurred:',
      );
    lines.push('Traceback (most recent call last):');
    for (const f of (e.frames ?? []).slice(-MAX_FRAMES))
      lines.push(`  File "${f.filename ?? '?'}", line ${f.lineno ?? '?'}, in ${f.name ?? '?'}`);
    lines.push(`${e.exc_type ?? 'Exception'}: ${e.exc_value ?? ''}`);
  });
  return lines;
}

/**
 * Renders one Airflow 3 structured message as text lines: `[ts] LEVEL logger - event key=value …`,
 * then `error_detail` as a Python traceback, so rules and evidence see every field.
 */
export function renderMessage(raw: unknown): string[] {
  const parsed = Message.safeParse(raw);
  if (!parsed.success) return [text(raw)];
  const m = parsed.data;
  const head = [m.timestamp ? `[${m.timestamp}]` : '', m.level ? m.level.toUpperCase() : '', m.logger ?? '']
    .filter(Boolean)
    .join(' ');
  const rec = m as Record<string, unknown>;
  const event = m.event === undefined && typeof rec.content === 'string' ? rec.content : m.event;
  const suffix = fieldSuffix(m.event === undefined ? { ...rec, content: undefined } : rec);
  const lines = [`${head}${head ? ' - ' : ''}${text(event)}${suffix}`];
  const excs = m.error_detail ?? z.array(ExcInfo).safeParse(rec.exception).data;
  if (excs?.length) lines.push(...renderTraceback(excs));
  return lines;
}

/** Airflow 3's own marker when its log stream stopped before the end of the log (log_reader.py). */
export const STREAM_STOPPED =
  /^\(Log stream stopped - End of log marker not found; logs may be incomplete\.\)/;

/** Feeds ndjson chunks to the filter as rendered text lines, one message at a time. */
export class NdjsonToText {
  private partial = '';
  /** Raw first lines seen, to recognise a page that replays the log from its start. */
  readonly firstLines: string[] = [];
  /** Set when Airflow said its stream stopped early. */
  stopped = false;

  constructor(
    private readonly filter: LogFilter,
    /** Called with each complete raw line before it is rendered; returning false drops it. */
    private readonly admit: (raw: string) => boolean = () => true,
  ) {}

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
    if (!line || !this.admit(line)) return;
    if (this.firstLines.length < 8) this.firstLines.push(line);
    if (STREAM_STOPPED.test(line)) this.stopped = true;
    let msg: unknown = line;
    try {
      msg = JSON.parse(line);
    } catch {
      // a cut or non-JSON line is kept as text
    }
    for (const l of renderMessage(msg)) this.filter.push(`${l}\n`);
  }
}
