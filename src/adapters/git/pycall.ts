/**
 * Format-preserving edits of keyword arguments in a Python call (an Airflow operator or `@task(...)`),
 * found by one of its arguments (`task_id="x"`). A small bracket/string-aware scanner, not a parser: when
 * the call cannot be found unambiguously the caller says so in words.
 */

const OPEN = '([{';
const CLOSE = ')]}';

/** Index of the bracket matching the one at `open`, skipping strings and comments; -1 if unbalanced. */
function matchForward(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '#') i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
    else if (c === '"' || c === "'") i = skipString(text, i);
    else if (OPEN.includes(c)) depth++;
    else if (CLOSE.includes(c) && --depth === 0) return i;
  }
  return -1;
}

function skipString(text: string, at: number): number {
  const q = text[at] ?? '"';
  const triple = text.startsWith(q.repeat(3), at);
  const end = triple ? q.repeat(3) : q;
  for (let i = at + end.length; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text.startsWith(end, i)) return i + end.length - 1;
    else if (!triple && text[i] === '\n') return i;
  }
  return text.length;
}

/** Top-level (depth 1) argument spans of the call whose parentheses are at [open, close]. */
function args(text: string, open: number, close: number): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  let start = open + 1;
  for (let i = open + 1; i < close; i++) {
    const c = text[i] ?? '';
    if (c === '#') i = Math.min(close, text.indexOf('\n', i) < 0 ? close : text.indexOf('\n', i));
    else if (c === '"' || c === "'") i = skipString(text, i);
    else if (OPEN.includes(c)) i = matchForward(text, i);
    else if (c === ',') {
      out.push({ start, end: i });
      start = i + 1;
    }
  }
  if (text.slice(start, close).trim()) out.push({ start, end: close });
  return out;
}

/** Whitespace and comments before an argument. */
const LEAD = '(?:\\s|#[^\\n]*)*';

export interface PyCall {
  open: number;
  close: number;
}

/** Every call containing the keyword argument `key=<python string literal of value>`. */
export function findCalls(text: string, key: string, value: string): PyCall[] {
  const re = new RegExp(`\\b${key}\\s*=\\s*(["'])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\1`, 'g');
  const calls: PyCall[] = [];
  for (const m of text.matchAll(re)) {
    for (let i = m.index - 1, depth = 0; i >= 0; i--) {
      const c = text[i] ?? '';
      if (CLOSE.includes(c)) depth++;
      else if (OPEN.includes(c) && depth-- === 0) {
        if (c !== '(') break;
        const close = matchForward(text, i);
        if (close > m.index) calls.push({ open: i, close });
        break;
      }
    }
  }
  return calls;
}

/** The expression of keyword `key` in the call, if given. */
export function getKwarg(text: string, call: PyCall, key: string): string | undefined {
  for (const a of args(text, call.open, call.close)) {
    const m = new RegExp(`^${LEAD}${key}\\s*=\\s*([\\s\\S]*?)\\s*$`).exec(text.slice(a.start, a.end));
    if (m) return m[1];
  }
  return undefined;
}

/** Sets keyword `key` to `expr` in the call: replaces its expression, else adds it after the last argument. */
export function setKwarg(text: string, call: PyCall, key: string, expr: string): string {
  const list = args(text, call.open, call.close);
  for (const a of list) {
    const span = text.slice(a.start, a.end);
    const m = new RegExp(`^(${LEAD}${key}\\s*=\\s*)([\\s\\S]*?)(\\s*)$`).exec(span);
    if (m) return text.slice(0, a.start) + (m[1] ?? '') + expr + (m[3] ?? '') + text.slice(a.end);
  }
  const last = list[list.length - 1];
  if (!last) return `${text.slice(0, call.open + 1)}${key}=${expr}${text.slice(call.close)}`;
  const lastText = text.slice(last.start, last.end);
  const multiline = /\n/.test(text.slice(call.open, call.close));
  const indent = /\n([ \t]*)\S[^\n]*$/.exec(text.slice(0, last.end))?.[1] ?? '    ';
  const at = last.start + lastText.replace(/\s+$/, '').length;
  const insert = multiline ? `,\n${indent}${key}=${expr}` : `, ${key}=${expr}`;
  return text.slice(0, at) + insert + text.slice(at);
}

/** Adds `from <module> import <name>` after the last top-level import unless `name` is already imported. */
export function ensureImport(text: string, module: string, name: string): string {
  const imported = new RegExp(`^\\s*from\\s+${module}\\s+import\\s+[^\\n]*\\b${name}\\b`, 'm');
  if (imported.test(text)) return text;
  const lines = text.split('\n');
  let at = -1;
  for (let i = 0; i < lines.length; i++) {
    if (!/^(?:import|from)\s+\S/.test(lines[i] ?? '')) continue;
    at = i;
    if (/\(\s*$/.test(lines[i] ?? '')) while (at < lines.length - 1 && !/\)/.test(lines[at] ?? '')) at++;
  }
  lines.splice(at + 1, 0, `from ${module} import ${name}`);
  return lines.join('\n');
}
