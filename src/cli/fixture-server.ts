/**
 * Serves a recorded scenario (a directory with scenario.json + http/) over HTTP, following the semantics of
 * ../shared/scenarios/README.md: exact decoded-path matching, query constraints (most keys wins),
 * `{base}` substitution (and `{files}`, Heal's extension for cross-platform scenarios), basic/bearer auth, Airflow text and structured logs, 404 `{"detail":"not found"}`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve } from 'node:path';
import { z } from 'zod';

const Route = z.object({
  method: z.string(),
  path: z.string(),
  query: z.record(z.string(), z.string()).optional(),
  file: z.string(),
  status: z.number().optional(),
  contentType: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  airflowLog: z.union([z.literal(true), z.literal('structured')]).optional(),
});
type Route = z.infer<typeof Route>;

const Auth = z.union([
  z.object({
    type: z.literal('basic'),
    username: z.string(),
    password: z.string(),
    paths: z.array(z.string()),
    public: z.array(z.string()).default([]),
  }),
  z.object({ type: z.literal('bearer'), token: z.string(), paths: z.array(z.string()) }),
]);

export const Scenario = z.object({
  name: z.string(),
  platform: z.enum(['spark', 'airflow', 'dbt']),
  description: z.string(),
  difficulty: z.number(),
  tags: z.array(z.string()),
  target: z.string(),
  env: z.record(z.string(), z.string()).default({}),
  auth: Auth.optional(),
  routes: z.array(Route).default([]),
  expect: z.object({
    category: z.string().nullable(),
    culprit: z
      .object({ kind: z.string(), id: z.string(), aliases: z.array(z.string()).optional() })
      .optional(),
    alternatives: z.array(z.string()).default([]),
  }),
  secrets: z.array(z.string()).optional(),
  injection: z.object({ text: z.string(), wants: z.string() }).optional(),
});
export type Scenario = z.infer<typeof Scenario> & { dir: string };

/** Reads and validates `scenario.json`. */
export function loadScenario(dir: string): Scenario {
  const abs = resolve(dir);
  const raw = JSON.parse(readFileSync(join(abs, 'scenario.json'), 'utf8'));
  return { ...Scenario.parse(raw), dir: abs };
}

/** Expands `{base}` / `{files}` in the scenario's target (token by token) and env values. */
export function expandScenario(s: Scenario, base: string): { target: string[]; env: Record<string, string> } {
  const files = join(s.dir, 'files');
  const expand = (v: string) => v.replaceAll('{base}', base).replaceAll('{files}', files);
  const target = s.target.split(/\s+/).filter(Boolean).map(expand);
  const env = Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, expand(v)]));
  return { target, env };
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  status: number;
}

export interface FixtureServer {
  base: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

function findRoute(
  routes: Route[],
  method: string,
  path: string,
  params: URLSearchParams,
): Route | undefined {
  const want = method === 'HEAD' ? 'GET' : method;
  const candidates = routes.filter(
    (r) =>
      r.method === want &&
      r.path === path &&
      Object.entries(r.query ?? {}).every(([k, v]) => params.get(k) === v),
  );
  let best: Route | undefined;
  for (const r of candidates)
    if (!best || Object.keys(r.query ?? {}).length > Object.keys(best.query ?? {}).length) best = r;
  return best;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function authorised(
  s: Scenario,
  req: IncomingMessage,
  path: string,
): { ok: true } | { ok: false; body: unknown } {
  const auth = s.auth;
  if (!auth?.paths.some((p) => path.startsWith(p))) return { ok: true };
  const header = req.headers.authorization ?? '';
  if (auth.type === 'basic') {
    if (auth.public.includes(path)) return { ok: true };
    const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    if (header === expected) return { ok: true };
    return {
      ok: false,
      body: {
        detail: null,
        status: 401,
        title: 'Unauthorized',
        type: 'https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html#section/Errors/Unauthenticated',
      },
    };
  }
  return header === `Bearer ${auth.token}`
    ? { ok: true }
    : { ok: false, body: { detail: 'Not authenticated' } };
}

function contentTypeFor(r: Route): string {
  if (r.contentType) return r.contentType;
  const ext = extname(r.file);
  if (ext === '.json') return 'application/json';
  if (ext === '.ndjson') return 'application/x-ndjson';
  return 'text/plain; charset=utf-8';
}

function airflowBody(r: Route, text: string, accept: string): { status: number; type: string; body: string } {
  if (r.airflowLog === true) {
    if (accept.includes('application/json'))
      return {
        status: 200,
        type: 'application/json',
        body: JSON.stringify({ content: text, continuation_token: null }),
      };
    return { status: 200, type: 'text/plain; charset=utf-8', body: text };
  }
  const messages = JSON.parse(text) as unknown[];
  if (!accept || accept.includes('*/*') || accept.includes('application/json'))
    return {
      status: 200,
      type: 'application/json',
      body: JSON.stringify({ content: messages, continuation_token: null }),
    };
  if (accept.includes('application/x-ndjson'))
    return {
      status: 200,
      type: 'application/x-ndjson',
      body: messages.map((m) => JSON.stringify(m)).join('\n'),
    };
  return {
    status: 406,
    type: 'application/json',
    body: JSON.stringify({ detail: 'Only application/json or application/x-ndjson is supported' }),
  };
}

/** Starts the fixture server on 127.0.0.1 (ephemeral port). `delayMs` slows every answer. */
export async function startFixtureServer(
  scenarioDir: string,
  opts: { delayMs?: number } = {},
): Promise<FixtureServer> {
  const scenario = loadScenario(scenarioDir);
  const requests: RecordedRequest[] = [];
  let base = '';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    const path = decodePath(url.pathname);
    const respond = () => {
      const route = findRoute(scenario.routes, req.method ?? 'GET', path, url.searchParams);
      const record = (status: number) =>
        requests.push({ method: req.method ?? 'GET', path, query: url.search, status });
      if (!route) {
        record(404);
        return json(res, 404, { detail: 'not found' });
      }
      const auth = authorised(scenario, req, path);
      if (!auth.ok) {
        record(401);
        return json(res, 401, auth.body);
      }
      let text: string;
      try {
        text = readFileSync(join(scenario.dir, route.file), 'utf8')
          .replaceAll('{base}', base)
          .replaceAll('{files}', join(scenario.dir, 'files'));
      } catch (err) {
        record(500);
        return json(res, 500, { detail: `fixture file unreadable: ${route.file}: ${String(err)}` });
      }
      const out = route.airflowLog
        ? airflowBody(route, text, String(req.headers.accept ?? ''))
        : { status: route.status ?? 200, type: contentTypeFor(route), body: text };
      record(out.status);
      res.writeHead(out.status, { 'content-type': out.type, ...(route.headers ?? {}) });
      res.end(req.method === 'HEAD' ? undefined : out.body);
    };
    if (opts.delayMs) setTimeout(respond, opts.delayMs);
    else respond();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
