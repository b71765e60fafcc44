import { redact } from '../core/redact.ts';

/** One kept log line; `n` is its 1-based line number in the log. */
export interface LogLine {
  n: number;
  text: string;
}
type Line = LogLine;

/** Knobs of the line filter. */
export interface LogFilterOptions {
  /** Lines matching any of these are kept (with context). */
  patterns: RegExp[];
  /** Lines of context kept before and after each match. */
  context?: number;
  /** Most lines kept per log: the first half and the last half of what qualified. */
  maxLines?: number;
  /** Longer lines are cut to this many characters. */
  maxLineChars?: number;
  /** The body is an HTML page (YARN NodeManager, standalone logPage): strip tags, decode entities. */
  html?: boolean;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: ' ' };

function stripHtml(text: string): string {
  return text.replace(/<[^>]*>/g, '').replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/**
 * Incremental line filter with bounded memory: feed it decoded text chunks in order; it keeps only
 * lines matching the patterns plus context (a ring buffer holds the before-context), cuts absurdly
 * long lines, redacts secrets in what it keeps, and keeps at most `maxLines` lines (head and tail).
 */
export class LogFilter {
  private readonly patterns: RegExp[];
  private readonly context: number;
  private readonly maxLineChars: number;
  private readonly headCap: number;
  private readonly tailCap: number;
  private readonly html: boolean;
  private partial = '';
  private overlong = false;
  private lineNo = 0;
  private before: Line[] = [];
  private afterLeft = 0;
  private inKey = false;
  private readonly head: Line[] = [];
  private tail: Line[] = [];
  private omitted = 0;
  private firstOmitted = 0;

  constructor(opts: LogFilterOptions) {
    this.patterns = opts.patterns;
    this.context = opts.context ?? 3;
    this.maxLineChars = opts.maxLineChars ?? 2000;
    const maxLines = Math.max(2, opts.maxLines ?? 200);
    this.headCap = Math.ceil(maxLines / 2);
    this.tailCap = maxLines - this.headCap;
    this.html = opts.html ?? false;
  }

  /** Feeds the next chunk of text; lines may span chunks. */
  push(chunk: string): void {
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', pos);
      this.append(nl === -1 ? chunk.slice(pos) : chunk.slice(pos, nl));
      if (nl === -1) return;
      this.completeLine();
      pos = nl + 1;
    }
  }

  /** Flushes a last line without a trailing newline. */
  end(): void {
    if (this.partial || this.overlong) this.completeLine();
  }

  /** Lines read so far (complete ones). */
  get linesRead(): number {
    return this.lineNo;
  }

  /** The kept lines; when more qualified than `maxLines`, a marker line says how many were left out. */
  lines(): Line[] {
    if (!this.omitted) return [...this.head, ...this.tail];
    const marker = {
      n: this.firstOmitted,
      text: `… [${this.omitted} more matching/context lines omitted: over ${this.headCap + this.tailCap} kept lines]`,
    };
    return [...this.head, marker, ...this.tail];
  }

  private append(piece: string): void {
    const room = this.maxLineChars - this.partial.length;
    if (piece.length > room) {
      this.partial += piece.slice(0, Math.max(0, room));
      this.overlong = true;
    } else this.partial += piece;
  }

  private completeLine(): void {
    this.lineNo++;
    let text = this.partial.endsWith('\r') ? this.partial.slice(0, -1) : this.partial;
    if (this.html) text = stripHtml(text);
    if (this.overlong) text += ' … [line cut]';
    this.partial = '';
    this.overlong = false;
    this.consider({ n: this.lineNo, text });
  }

  private consider(line: Line): void {
    if (this.patterns.some((re) => re.test(line.text))) {
      for (const b of this.before) this.keep(b);
      this.before = [];
      this.keep(line);
      this.afterLeft = this.context;
    } else if (this.afterLeft > 0) {
      this.afterLeft--;
      this.keep(line);
    } else if (this.context > 0) {
      this.before.push(line);
      if (this.before.length > this.context) this.before.shift();
    }
  }

  private keep(line: Line): void {
    const kept = { n: line.n, text: this.redactLine(line.text) };
    if (this.head.length < this.headCap) {
      this.head.push(kept);
      return;
    }
    this.tail.push(kept);
    if (this.tail.length > this.tailCap) {
      const dropped = this.tail.shift();
      if (!this.omitted && dropped) this.firstOmitted = dropped.n;
      this.omitted++;
    }
  }

  // A PEM key spans lines; per-line redaction alone would let its body through.
  private redactLine(text: string): string {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) this.inKey = true;
    if (this.inKey) {
      if (/-----END [A-Z ]*PRIVATE KEY-----/.test(text)) this.inKey = false;
      return '[REDACTED private key]';
    }
    return redact(text);
  }
}

/**
 * Streams a response body into `filter` (anything with `push(text)`), stopping after `maxBytes`.
 * Returns the bytes read, whether the byte budget cut it, and a read error if the stream broke.
 */
export async function pumpBody(
  res: Response,
  filter: { push(chunk: string): void },
  maxBytes: number,
): Promise<{ bytes: number; truncated: boolean; error?: unknown }> {
  if (!res.body) return { bytes: 0, truncated: false };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = maxBytes - bytes;
      if (value.byteLength > room) {
        bytes += room;
        filter.push(decoder.decode(value.subarray(0, room), { stream: true }));
        await reader.cancel().catch(() => {});
        return { bytes, truncated: true };
      }
      bytes += value.byteLength;
      filter.push(decoder.decode(value, { stream: true }));
    }
    filter.push(decoder.decode());
    return { bytes, truncated: false };
  } catch (error) {
    await reader.cancel().catch(() => {});
    return { bytes, truncated: false, error };
  }
}
