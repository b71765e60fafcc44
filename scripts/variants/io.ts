/**
 * In-memory scenario used by the variant generator: the manifest plus every body file as text, with
 * helpers to read/write JSON bodies and to find routes. Nothing here knows about a particular scenario.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** A route as scenario.json spells it. */
export interface Route {
  method: string;
  path: string;
  query?: Record<string, string>;
  file: string;
  status?: number;
}

/** The scenario manifest (scenario.json); only the fields the generator touches are typed. */
export interface Manifest {
  name: string;
  platform: string;
  description: string;
  difficulty: number;
  tags: string[];
  target: string;
  env: Record<string, string>;
  routes: Route[];
  expect: {
    category: string | null;
    culprit?: { kind: string; id: string; aliases?: string[] };
    alternatives: string[];
  };
  secrets?: string[];
  injection?: { text: string; wants: string };
}

/** A scenario being transformed: manifest + files (path relative to the scenario dir -> text). */
export interface Scn {
  manifest: Manifest;
  files: Map<string, string>;
}

// biome-ignore lint/suspicious/noExplicitAny: payloads are free-form JSON edited in place by the transforms
export type Json = any;

export function loadScn(dir: string): Scn {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name !== 'scenario.json') files.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  const manifest = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8')) as Manifest;
  return { manifest, files };
}

/** Writes the scenario, dropping files no route serves (keeps the set small). */
export function saveScn(s: Scn, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  const served = new Set(s.manifest.routes.map((r) => r.file));
  for (const [path, text] of s.files) {
    if (!served.has(path)) continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  writeFileSync(join(dir, 'scenario.json'), `${JSON.stringify(s.manifest, null, 1)}\n`);
}

export function getJson(s: Scn, path: string): Json {
  const text = s.files.get(path);
  if (text === undefined) throw new Error(`no file ${path}`);
  return JSON.parse(text);
}

export function setJson(s: Scn, path: string, value: Json): void {
  s.files.set(path, JSON.stringify(value));
}

/** Edits a JSON body in place (the callback mutates or returns a replacement). */
export function editJson(s: Scn, path: string, fn: (v: Json) => Json | undefined): void {
  const v = getJson(s, path);
  setJson(s, path, fn(v) ?? v);
}

export function editText(s: Scn, path: string, fn: (t: string) => string): void {
  const t = s.files.get(path);
  if (t === undefined) throw new Error(`no file ${path}`);
  s.files.set(path, fn(t));
}

export function jsonFiles(s: Scn): string[] {
  return [...s.files.keys()].filter((p) => p.endsWith('.json'));
}

export function logFiles(s: Scn): string[] {
  return [...s.files.keys()].filter((p) => p.endsWith('.log'));
}

/** The API prefix of the app, e.g. `/api/v1/applications/<id>` or `.../<id>/1` for YARN cluster apps. */
export function appPrefix(s: Scn): string {
  const jobs = s.manifest.routes.find((r) => r.path.endsWith('/jobs'));
  if (!jobs) throw new Error('no jobs route');
  return jobs.path.slice(0, -'/jobs'.length);
}

/** The file served for a path (and optional exact query), if any. */
export function routeFile(s: Scn, path: string, query?: Record<string, string>): string | undefined {
  const q = JSON.stringify(query ?? {});
  return s.manifest.routes.find((r) => r.path === path && JSON.stringify(r.query ?? {}) === q)?.file;
}

/** Every file that holds one stage attempt's detail (the `stages/<sid>/<att>` bodies, with or without tasks). */
export function stageAttemptFiles(s: Scn, sid: number, att: number): string[] {
  const path = `${appPrefix(s)}/stages/${sid}/${att}`;
  return [...new Set(s.manifest.routes.filter((r) => r.path === path).map((r) => r.file))];
}

/** Replaces every occurrence of each `from` (longest first) in all files, routes, target and env. */
export function replaceEverywhere(s: Scn, pairs: Array<[string, string]>): void {
  const sorted = [...pairs].sort((a, b) => b[0].length - a[0].length);
  const apply = (t: string) => {
    // one pass with a combined pattern so a replacement is never re-replaced by a later pair
    if (sorted.length === 0) return t;
    const re = new RegExp(sorted.map(([f]) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    const map = new Map(sorted);
    return t.replace(re, (m) => map.get(m) ?? m);
  };
  for (const [k, v] of s.files) s.files.set(k, apply(v));
  const m = s.manifest;
  m.target = apply(m.target);
  for (const k of Object.keys(m.env)) m.env[k] = apply(m.env[k] ?? '');
  for (const r of m.routes) {
    r.path = apply(r.path);
    if (r.query) for (const k of Object.keys(r.query)) r.query[k] = apply(r.query[k] ?? '');
  }
}
