/** Text-level edits shared by the structural variants: strings inside JSON bodies and log lines alike. */
import { editJson, getJson, type Json, jsonFiles, logFiles, type Scn, setJson } from './io.ts';

/** Applies `fn` to every log body and to every string value of every JSON body. */
export function mapStrings(s: Scn, fn: (t: string) => string): void {
  for (const f of logFiles(s)) s.files.set(f, fn(s.files.get(f) ?? ''));
  const walk = (v: Json): Json => {
    if (typeof v === 'string') return fn(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return renameKeys(v, fn, walk);
    return v;
  };
  for (const f of jsonFiles(s)) setJson(s, f, walk(getJson(s, f)));
}

/** Applies `fn` to every JSON object (depth-first) of every JSON body. */
export function eachObject(s: Scn, fn: (o: Json) => void): void {
  const walk = (v: Json): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      fn(v);
      for (const k of Object.keys(v)) walk(v[k]);
    }
  };
  for (const f of jsonFiles(s)) {
    const v = getJson(s, f);
    walk(v);
    setJson(s, f, v);
  }
}

/** Removes log lines matching `re` (in one log file). */
export function dropLines(s: Scn, file: string, re: RegExp): void {
  const t = s.files.get(file);
  if (t !== undefined)
    s.files.set(
      file,
      t
        .split('\n')
        .filter((l) => !re.test(l))
        .join('\n'),
    );
}

/** Inserts `lines` before the first line matching `at` (in one log file). */
export function insertBefore(s: Scn, file: string, at: RegExp, lines: string[]): void {
  const t = (s.files.get(file) ?? '').split('\n');
  const i = t.findIndex((l) => at.test(l));
  if (i < 0) throw new Error(`${file}: no line matching ${at}`);
  t.splice(i, 0, ...lines);
  s.files.set(file, t.join('\n'));
}

/** Marks dead executors alive again (no removeTime/removeReason) and lists them in `executors`. */
export function reviveExecutors(s: Scn, ids: string[]): void {
  const all: Json[] = getJson(s, 'http/allexecutors.json');
  for (const e of all) {
    if (!ids.includes(e.id)) continue;
    e.isActive = true;
    delete e.removeTime;
    delete e.removeReason;
  }
  setJson(s, 'http/allexecutors.json', all);
  editJson(s, 'http/executors.json', () => all.filter((e) => e.isActive));
}

/** The file path of an executor's stderr log. */
export function stderrOf(s: Scn, exec: string): string {
  const e = (getJson(s, 'http/allexecutors.json') as Json[]).find((x) => x.id === exec);
  const url: string = e?.executorLogs?.stderr ?? '';
  const u = new URL(url.replace('{base}', 'http://x'));
  const path = decodeURIComponent(u.pathname);
  const q = Object.fromEntries(u.searchParams);
  const r = s.manifest.routes.find(
    (x) => x.path === path && JSON.stringify(x.query ?? {}) === JSON.stringify(u.search ? q : {}),
  );
  if (!r) throw new Error(`no stderr route for executor ${exec}`);
  return r.file;
}

/** Rebuilds an object with `fn` applied to its keys (e.g. killedTasksSummary keys are failure texts) and `walk` to values. */
export function renameKeys(o: Json, fn: (k: string) => string, walk: (v: Json) => Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) out[fn(k)] = walk(v);
  return out;
}
