/**
 * Consistent whole-scenario transformations: stack trimming, stage-id shift, data-volume scaling, host
 * renaming, app-id/log-URL restyling between YARN, standalone and Kubernetes, Spark version changes.
 */
import { renameKeys } from './edit.ts';
import {
  editJson,
  getJson,
  type Json,
  jsonFiles,
  logFiles,
  replaceEverywhere,
  type Scn,
  setJson,
} from './io.ts';

/** Keeps at most `keep` consecutive `\tat` frames of every Java stack (in JSON strings and logs). */
export function trimStacks(s: Scn, keep = 10): void {
  const trim = (t: string) =>
    t.replace(/((?:\n\tat [^\n]*){1,10000})/g, (block) => {
      const frames = block.split('\n').slice(1);
      if (frames.length <= keep) return block;
      return `\n${frames.slice(0, keep).join('\n')}\n\t... ${frames.length - keep} more`;
    });
  for (const [k, v] of s.files) s.files.set(k, trim(v));
}

/** Adds `k` to every stage id: JSON ids, routes, and `stage N` / `ResultStage N` in text. */
export function shiftStages(s: Scn, k: number): void {
  const text = (t: string) =>
    t.replace(/\b((?:ShuffleMap|Result)?[Ss]tage )(\d+)\b/g, (_, w, n) => `${w}${+n + k}`);
  for (const f of logFiles(s)) s.files.set(f, text(s.files.get(f) ?? ''));
  const walk = (v: Json): Json => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      for (const key of Object.keys(v)) {
        if (key === 'stageId' && typeof v[key] === 'number') v[key] += k;
        else if (key === 'stageIds' && Array.isArray(v[key])) v[key] = v[key].map((n: number) => n + k);
        else v[key] = walk(v[key]);
      }
      return renameKeys(v, text, (x) => x);
    }
    return v;
  };
  for (const f of jsonFiles(s)) setJson(s, f, walk(getJson(s, f)));
  for (const r of s.manifest.routes)
    r.path = r.path.replace(/\/stages\/(\d+)/, (_, n) => `/stages/${+n + k}`);
  const m = s.manifest;
  m.description = text(m.description);
  if (m.expect.culprit?.kind === 'stage') m.expect.culprit.id = String(+m.expect.culprit.id + k);
}

const VOLUME = /(bytes|records|^shuffleRead$|^shuffleWrite$|^totalShuffleRead$|^totalShuffleWrite$|spilled)/i;
const NOT_VOLUME = /(time|duration|blocks|chunks|count)$/i;
/** Whether a JSON key holds a data volume (bytes/records read, written, shuffled, spilled). */
export const isVolumeKey = (k: string) => VOLUME.test(k) && !NOT_VOLUME.test(k);

/** Spark's Utils.bytesToString. */
export function bytesToString(n: number): string {
  const units: Array<[number, string]> = [
    [2 ** 40, 'TiB'],
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ];
  for (const [size, unit] of units) if (n >= 2 * size) return `${(n / size).toFixed(1)} ${unit}`;
  return `${n.toFixed(1)} B`;
}

const UNIT: Record<string, number> = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** Multiplies sizes in log lines matching `lines` (e.g. shuffle fetch and spill lines) by `k`. */
export function scaleLogSizes(t: string, k: number, lines: RegExp): string {
  return t
    .split('\n')
    .map((l) =>
      lines.test(l)
        ? l.replace(/(\d+(?:\.\d+)?) (B|KiB|MiB|GiB|TiB)\b/g, (_, v, u) =>
            bytesToString(+v * (UNIT[u] ?? 1) * k),
          )
        : l,
    )
    .join('\n');
}

/**
 * Multiplies by the integer `k` every value under a key accepted by `keep` (numbers and arrays of numbers),
 * in the JSON files accepted by `files`: sums and quantiles stay exact because k is an integer.
 */
export function scaleKeys(
  s: Scn,
  k: number,
  keep: (key: string) => boolean,
  files: (f: string) => boolean,
): void {
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      for (const key of Object.keys(v)) {
        const x = v[key];
        if (keep(key) && typeof x === 'number') v[key] = x * k;
        else if (keep(key) && Array.isArray(x) && x.every((n) => typeof n === 'number'))
          v[key] = x.map((n) => n * k);
        else v[key] = walk(x);
      }
    }
    return v;
  };
  for (const f of jsonFiles(s).filter(files)) setJson(s, f, walk(getJson(s, f)));
}

/** Scales every data volume of the app by `k` (JSON and the shuffle-fetch / spill lines of the logs). */
export function scaleVolumes(s: Scn, k: number): void {
  scaleKeys(s, k, isVolumeKey, () => true);
  for (const f of logFiles(s))
    s.files.set(f, scaleLogSizes(s.files.get(f) ?? '', k, /non-empty blocks|spilling/));
}

/** Renames IPv4 hosts (and their `ip-a-b-c-d` forms) by a deterministic mapping into `prefix` (e.g. "172.31"). */
export function renameHosts(s: Scn, prefix: string): void {
  const ips = new Set<string>();
  for (const v of s.files.values()) {
    for (const m of v.matchAll(/\b10\.\d+\.\d+\.\d+\b/g)) ips.add(m[0]);
    for (const m of v.matchAll(/\bip-(10-\d+-\d+-\d+)\b/g)) ips.add((m[1] ?? '').replaceAll('-', '.'));
  }
  const pairs: Array<[string, string]> = [];
  [...ips].sort().forEach((ip, i) => {
    const to = `${prefix}.${16 + ((i * 7) % 200)}.${20 + ((i * 37) % 220)}`;
    pairs.push([ip, to], [`ip-${ip.replaceAll('.', '-')}`, `ip-${to.replaceAll('.', '-')}`]);
  });
  replaceEverywhere(s, pairs);
}

/** Sets the Spark version in the app list, the app and the environment. */
export function setSparkVersion(s: Scn, v: string): void {
  const old = getJson(s, 'http/app.json').attempts[0].appSparkVersion as string;
  const fix = (a: Json) => {
    for (const at of a.attempts ?? []) if (at.appSparkVersion === old) at.appSparkVersion = v;
  };
  editJson(s, 'http/app.json', fix);
  editJson(s, 'http/applications.json', (l: Json[]) => {
    for (const a of l) fix(a);
  });
  editJson(s, 'http/environment.json', (e) => {
    e.runtime.sparkVersion = v;
  });
  for (const f of logFiles(s))
    s.files.set(f, (s.files.get(f) ?? '').replaceAll(`version ${old}`, `version ${v}`));
}

/** Sets (or adds, or with `undefined` removes) spark properties in environment.json. */
export function setProps(s: Scn, props: Record<string, string | undefined>): void {
  editJson(s, 'http/environment.json', (e) => {
    let pairs: Array<[string, string]> = e.sparkProperties;
    for (const [k, v] of Object.entries(props)) {
      pairs = pairs.filter(([pk]) => pk !== k);
      if (v !== undefined) pairs.push([k, v]);
    }
    e.sparkProperties = pairs.sort((a, b) => a[0].localeCompare(b[0]));
  });
}

/** Removes the routes whose path matches, so the fixture server answers 404 there. */
export function dropRoutes(s: Scn, path: RegExp): void {
  s.manifest.routes = s.manifest.routes.filter((r) => !path.test(r.path));
}

const BOILERPLATE =
  /INFO (SignalUtils|SecurityManager|ResourceUtils|TransportClientFactory|NettyBlockTransferService|DiskBlockManager|CoarseGrainedExecutorBackend: Got assigned|ShuffleBlockFetcherIterator: Started|Utils: Successfully started|Executor: (OS info|Java version))/;

/** Drops executor start-up boilerplate and per-task bookkeeping lines from every log (keeps the set small). */
export function trimLogs(s: Scn): void {
  for (const f of logFiles(s)) {
    s.files.set(
      f,
      (s.files.get(f) ?? '')
        .split('\n')
        .filter((l) => !BOILERPLATE.test(l))
        .join('\n'),
    );
  }
}
