import { createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import Assembler from 'stream-json/assembler.js';
import parser from 'stream-json/parser.js';

/**
 * Streamed reading of dbt artifacts with bounded memory (issue 13.9: a 500 MiB run_results.json read whole
 * peaked at 3 GiB). The JSON is tokenised by stream-json (a well-kept streaming parser: no whole-file string,
 * no whole-file object); the big collections (`results`, `nodes`, `sources`, `macros`) are assembled one
 * element at a time and cut down to the fields Heal reads, long code strings clipped, and once a budget of
 * kept text is spent, further elements keep their names and statuses but not their code. What was cut is
 * returned as notes, which become gaps.
 */

/** How one artifact is cut. */
export interface StreamPlan {
  /** Top-level keys kept whole (small: metadata, args, elapsed_time, child_map…). */
  keep: readonly string[];
  /** Top-level collections read element by element, with the fields each element keeps. */
  collections: Readonly<Record<string, readonly string[]>>;
  /** Fields clipped to `maxFieldChars` (SQL, messages). */
  clip: readonly string[];
}

/** Limits of one streamed read. */
export interface StreamLimits {
  /** A longer clipped field is cut to this many characters. */
  maxFieldChars: number;
  /** Characters of clipped fields kept over the whole file; past it, those fields are dropped. */
  maxKeptChars: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxFieldChars: 32 * 1024,
  maxKeptChars: 48 * 1024 * 1024,
};

type Token = { name: string; value?: unknown };

class Cutter {
  kept = 0;
  clipped = 0;
  dropped = 0;
  constructor(
    private readonly plan: StreamPlan,
    private readonly limits: StreamLimits,
  ) {}

  /** The element with only its kept fields, code clipped and counted against the budget. */
  project(collection: string, value: unknown): unknown {
    const fields = this.plan.collections[collection];
    if (!fields || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const src = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const f of fields) if (f in src) out[f] = this.plan.clip.includes(f) ? this.clip(src[f]) : src[f];
    // A fresh copy: the parser's strings may be slices of its whole input chunk, which they would keep alive.
    return JSON.parse(JSON.stringify(out));
  }

  private clip(v: unknown): unknown {
    if (typeof v !== 'string') return v;
    if (this.kept >= this.limits.maxKeptChars) {
      this.dropped++;
      return undefined;
    }
    const cut = v.length > this.limits.maxFieldChars ? `${v.slice(0, this.limits.maxFieldChars)}…` : v;
    if (cut !== v) this.clipped++;
    this.kept += cut.length;
    return cut;
  }

  notes(what: string): string[] {
    const out: string[] = [];
    if (this.clipped)
      out.push(
        `${what}: ${this.clipped} long SQL/message fields clipped to ${this.limits.maxFieldChars} characters`,
      );
    if (this.dropped)
      out.push(
        `${what}: SQL/message fields of ${this.dropped} entries not kept (over ${this.limits.maxKeptChars} characters of SQL kept)`,
      );
    return out;
  }
}

/** Walks the token stream of one top-level object, assembling only what the plan keeps. */
class Walker {
  readonly top: Record<string, unknown> = {};
  private depth = 0;
  private key: string | undefined;
  /** The collection being read (depth 2 elements), and its container. */
  private coll: { name: string; out: unknown[] | Record<string, unknown>; elemKey?: string } | undefined;
  private asm: Assembler | undefined;
  private skipping = false;

  constructor(
    private readonly cut: Cutter,
    private readonly plan: StreamPlan,
  ) {}

  feed(t: Token): void {
    if (this.asm) {
      this.feedAssembler(t);
      return;
    }
    const opens = t.name === 'startObject' || t.name === 'startArray';
    const closes = t.name === 'endObject' || t.name === 'endArray';
    if (this.depth === 0) {
      if (t.name !== 'startObject') throw new Error('the artifact is not a JSON object');
      this.depth = 1;
      return;
    }
    if (this.skipping) {
      if (opens) this.depth++;
      else if (closes) this.depth--;
      if (this.depth === 1) this.skipping = false;
      return;
    }
    if (this.depth === 1) this.atTop(t, opens, closes);
    else if (this.depth === 2 && this.coll) this.inCollection(t, closes);
  }

  private atTop(t: Token, opens: boolean, closes: boolean): void {
    if (t.name === 'keyValue') {
      this.key = String(t.value);
      return;
    }
    if (closes) {
      this.depth = 0;
      return;
    }
    const key = this.key ?? '';
    if (key in this.plan.collections && opens) {
      this.coll = { name: key, out: t.name === 'startArray' ? [] : {} };
      this.top[key] = this.coll.out;
      this.depth = 2;
      return;
    }
    if (this.plan.keep.includes(key)) this.startAssembler(t, (v) => this.setTop(key, v));
    else if (opens) {
      this.depth = 2;
      this.skipping = true;
    }
  }

  private inCollection(t: Token, closes: boolean): void {
    const coll = this.coll;
    if (!coll) return;
    if (t.name === 'keyValue') {
      coll.elemKey = String(t.value);
      return;
    }
    if (closes) {
      this.coll = undefined;
      this.depth = 1;
      return;
    }
    this.startAssembler(t, (v) => {
      const projected = this.cut.project(coll.name, v);
      if (Array.isArray(coll.out)) coll.out.push(projected);
      else coll.out[coll.elemKey ?? ''] = projected;
    });
  }

  private done: ((v: unknown) => void) | undefined;

  private startAssembler(t: Token, done: (v: unknown) => void): void {
    this.asm = new Assembler();
    this.done = done;
    this.feedAssembler(t);
  }

  private feedAssembler(t: Token): void {
    const asm = this.asm as Assembler;
    asm.consume(t as never);
    if (!asm.done) return;
    const value = asm.current;
    this.asm = undefined;
    this.done?.(value);
  }

  private setTop(key: string, v: unknown): void {
    this.top[key] = v;
  }
}

/**
 * Reads one JSON artifact from `source` (a file path or a byte stream) with the plan's cuts. Resolves to the
 * cut-down object plus notes on what was cut; rejects on malformed JSON or a read error (the caller words it).
 */
export async function streamArtifact(
  source: string | Readable,
  plan: StreamPlan,
  what: string,
  limits: StreamLimits = DEFAULT_STREAM_LIMITS,
): Promise<{ value: Record<string, unknown>; notes: string[] }> {
  // One big artifact at a time per process: 16 investigations reading 500 MiB files must not add up.
  const previous = gate;
  let release = () => {};
  gate = new Promise<void>((r) => {
    release = r;
  });
  await previous;
  try {
    return await streamOne(source, plan, what, limits);
  } finally {
    release();
  }
}

let gate: Promise<void> = Promise.resolve();

async function streamOne(
  source: string | Readable,
  plan: StreamPlan,
  what: string,
  limits: StreamLimits,
): Promise<{ value: Record<string, unknown>; notes: string[] }> {
  const cut = new Cutter(plan, limits);
  const walker = new Walker(cut, plan);
  const input = typeof source === 'string' ? createReadStream(source) : source;
  // pipeline: a read error or malformed JSON destroys the token stream, so the loop below rejects.
  const tokens = pipeline(input, parser.asStream({ streamValues: false }), () => undefined);
  try {
    for await (const t of tokens) walker.feed(t as Token);
  } finally {
    input.destroy();
  }
  return { value: walker.top, notes: cut.notes(what) };
}
