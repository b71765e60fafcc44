/**
 * Minimal, format-preserving edits of Spark-style configuration files: spark-defaults (`key value`,
 * `key=value`, `key: value`) and submit scripts (`--conf key=value`, with `\` continuations).
 */

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function lineRe(key: string): RegExp {
  return new RegExp(`^(\\s*(?:--conf[\\s=]+)?["']?${esc(key)})(\\s*[=:]\\s*|\\s+)([^\\s"'\\\\]*)(.*)$`);
}

/** Values of `keys` as the file sets them (last one wins, commented lines ignored). */
export function readConf(text: string, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    for (const k of keys) {
      const m = lineRe(k).exec(line);
      if (m?.[3] !== undefined) out[k] = m[3];
    }
  }
  return out;
}

/** Is this a submit script (`--conf k=v`) rather than a spark-defaults file? */
const isSubmitStyle = (text: string) => /^\s*--conf[\s=]/m.test(text) || /spark-submit/.test(text);

function appendDefaults(lines: string[], key: string, value: string): string[] {
  const sample = lines.find((l) => /^\s*spark\.[\w.]+\s*[=\s]/.test(l) && !/^\s*#/.test(l));
  const sep = sample
    ? /^\s*[\w.]+\s*=/.test(sample)
      ? '='
      : (/^\s*[\w.]+(\s+)/.exec(sample)?.[1] ?? ' ')
    : ' ';
  const body = lines.length && lines[lines.length - 1] === '' ? lines.slice(0, -1) : lines;
  return [...body, `${key}${sep}${value}`, ''];
}

function appendSubmit(lines: string[], key: string, value: string): string[] {
  const last = lines.reduce((at, l, i) => (/^\s*--conf[\s=]/.test(l) ? i : at), -1);
  if (last < 0) return [...lines, `--conf ${key}=${value}`];
  const ref = lines[last] ?? '';
  const indent = /^\s*/.exec(ref)?.[0] ?? '';
  const quote = /--conf[\s=]+(["'])/.exec(ref)?.[1] ?? '';
  const out = [...lines];
  const cont = /\\\s*$/.test(ref);
  out.splice(last + 1, 0, `${indent}--conf ${quote}${key}=${value}${quote}${cont ? ' \\' : ''}`);
  if (!cont) out[last] = `${ref} \\`;
  return out;
}

/**
 * Sets each key to its value: rewrites the last uncommented line that sets it, else adds a line in the
 * file's own style. Returns the new text (unchanged when every key already has its value).
 */
export function setConf(text: string, values: Record<string, string>): string {
  let lines = text.split('\n');
  const submit = isSubmitStyle(text);
  for (const [key, value] of Object.entries(values)) {
    const re = lineRe(key);
    let at = -1;
    lines.forEach((l, i) => {
      if (!/^\s*#/.test(l) && re.test(l)) at = i;
    });
    if (at >= 0) {
      lines[at] = (lines[at] ?? '').replace(
        re,
        (_m, head, sep, _old, tail) => `${head}${sep}${value}${tail}`,
      );
      continue;
    }
    lines = submit ? appendSubmit(lines, key, value) : appendDefaults(lines, key, value);
  }
  return lines.join('\n');
}

/** Parses a Spark memory size (`1024m`, `4g`, `512k`; no suffix is MiB, as Spark reads these keys) to MiB. */
export function memToMiB(v: string | undefined): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*$/i.exec(v ?? '');
  if (!m?.[1]) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const f: Record<string, number> = { '': 1, k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 };
  return n * (f[unit] ?? 1);
}
