import type { z } from 'zod';
import { ok, type Upstream, upstreamError } from '../../core/upstream.ts';
import { type Opened, openUrl, parseJsonBody } from '../http.ts';
import type { AdapterContext } from '../types.ts';
import { Token, Version } from './schema.ts';

/** Seconds before a JWT's `exp` at which it is refreshed ahead of time. */
const EXPIRY_SLACK_S = 30;

/** URL path of a DAG run under the API root; run ids carry `:` and `+`, so every segment is encoded. */
export function runPath(dagId: string, runId: string): string {
  return `/dags/${encodeURIComponent(dagId)}/dagRuns/${encodeURIComponent(runId)}`;
}

/**
 * URL path of a task instance of a DAG run; a mapped instance (`mapIndex >= 0`) is
 * `…/taskInstances/{task_id}/{map_index}` (the unmapped route answers 404 "Task instance is mapped").
 */
export function tiPath(dagId: string, runId: string, taskId: string, mapIndex?: number | null): string {
  const base = `${runPath(dagId, runId)}/taskInstances/${encodeURIComponent(taskId)}`;
  return mapIndex !== undefined && mapIndex !== null && mapIndex >= 0 ? `${base}/${mapIndex}` : base;
}

/** How a task instance is named in reports: `load` or, mapped, `load[140]`. */
export function tiLabel(taskId: string, mapIndex?: number | null): string {
  return mapIndex !== undefined && mapIndex !== null && mapIndex >= 0 ? `${taskId}[${mapIndex}]` : taskId;
}

/** Rows asked per page: Airflow caps `limit` at `[api] maximum_page_limit` (default 100), silently. */
export const PAGE_LIMIT = 100;
/** Pages read per list at most; past that the list is incomplete and says so. */
export const MAX_PAGES = 50;

/** Every row of a paged list, and why it is incomplete when it is (page cap hit, a later page failed). */
export interface Paged<T> {
  items: T[];
  total?: number;
  incomplete?: string;
}

type Collection = { total_entries?: number | null | undefined };

/** `exp` of a JWT in epoch seconds, when it has one. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Airflow REST client for Airflow 2 (`/api/v1`, basic auth or a bearer AIRFLOW_TOKEN) and Airflow 3
 * (`/api/v2`, a JWT from `POST /auth/token`, refreshed once on a 401 or when it expires). Every call
 * resolves to an `Upstream<T>`; upstream problems never throw.
 */
export class AirflowClient {
  private token: string | undefined;
  private expiresAt: number | undefined;

  constructor(
    /** Airflow base URL without a trailing slash. */
    readonly base: string,
    private readonly ctx: AdapterContext,
    /** 2 (`/api/v1`) or 3 (`/api/v2`). */
    readonly major: 2 | 3,
    /** The server's version string (e.g. `2.10.2`), when known. */
    public version?: string,
  ) {
    this.token = ctx.config.AIRFLOW_TOKEN;
  }

  get apiRoot(): string {
    return this.major === 3 ? '/api/v2' : '/api/v1';
  }

  /** Issues a JWT with AIRFLOW_USERNAME / AIRFLOW_PASSWORD (Airflow 3). */
  async login(): Promise<Upstream<string>> {
    const { AIRFLOW_USERNAME: username, AIRFLOW_PASSWORD: password } = this.ctx.config;
    if (!username || !password)
      return upstreamError(
        'Airflow 3 needs AIRFLOW_USERNAME and AIRFLOW_PASSWORD (or AIRFLOW_TOKEN) to get an API token',
        false,
      );
    const what = `Airflow: POST /auth/token`;
    const opened = await openUrl(`${this.base}/auth/token`, what, this.ctx, 'application/json', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!opened.ok) return opened.result;
    const parsed = await parseJsonBody(opened.res, what, Token, this.ctx);
    if (parsed.status !== 'ok') return parsed;
    this.token = parsed.data.access_token;
    const exp = jwtExpiry(this.token);
    // A token that looks expired the moment it is issued means clock skew: trust the server instead.
    this.expiresAt = exp !== undefined && exp * 1000 > Date.now() ? exp : undefined;
    return ok(this.token);
  }

  /** True when a bearer token (configured or issued) is held. */
  hasToken(): boolean {
    return this.token !== undefined;
  }

  private authHeaders(): Record<string, string> {
    const { AIRFLOW_USERNAME: user, AIRFLOW_PASSWORD: pass } = this.ctx.config;
    if (this.major === 2 && user && pass)
      return { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  private async ensureToken(): Promise<Upstream<true> | undefined> {
    if (this.major !== 3) return undefined;
    const expired = this.expiresAt !== undefined && this.expiresAt - EXPIRY_SLACK_S < Date.now() / 1000;
    if (this.token && !expired) return undefined;
    const got = await this.login();
    return got.status === 'ok' ? undefined : got;
  }

  /** Opens `apiRoot + path` with auth; on Airflow 3 a 401 gets one token refresh and a retry. */
  async open(path: string, accept: string, what: string): Promise<Opened> {
    const failed = await this.ensureToken();
    if (failed && failed.status !== 'ok') return { ok: false, result: failed as Upstream<never> };
    const url = `${this.base}${this.apiRoot}${path}`;
    const first = await openUrl(url, what, this.ctx, accept, { headers: this.authHeaders() });
    if (first.ok || this.major !== 3 || first.result.status === 'ok' || first.result.httpStatus !== 401)
      return first;
    const again = await this.login();
    if (again.status !== 'ok') return first;
    return openUrl(url, what, this.ctx, accept, { headers: this.authHeaders() });
  }

  /** GETs `apiRoot + path` and parses it with `schema`. */
  async get<S extends z.ZodType>(path: string, schema: S): Promise<Upstream<z.output<S>>> {
    const what = `Airflow: GET ${this.apiRoot}${path}`;
    const opened = await this.open(path, 'application/json', what);
    if (!opened.ok) return opened.result;
    return parseJsonBody(opened.res, what, schema, this.ctx);
  }

  /**
   * GETs every page of a list (`limit=100&offset=…`) until `total_entries` rows are read (or, without
   * `total_entries`, a short page), at most `maxPages` pages. A failed first page is the result; a later
   * failure or the page cap keeps the rows read and names the gap in `incomplete`.
   */
  async list<S extends z.ZodType<Collection>, T>(
    path: string,
    schema: S,
    rows: (page: z.output<S>) => T[],
    maxPages = MAX_PAGES,
  ): Promise<Upstream<Paged<T>>> {
    const sep = path.includes('?') ? '&' : '?';
    const items: T[] = [];
    let total: number | undefined;
    for (let page = 0; page < maxPages; page++) {
      const got = await this.get(`${path}${sep}limit=${PAGE_LIMIT}&offset=${items.length}`, schema);
      if (got.status !== 'ok' && page === 0) return got;
      if (got.status !== 'ok')
        return ok({ items, total, incomplete: `${got.message} (after ${items.length} rows)` });
      const batch = rows(got.data);
      items.push(...batch);
      total = got.data.total_entries ?? undefined;
      const done = total !== undefined ? items.length >= total : batch.length < PAGE_LIMIT;
      if (done || batch.length === 0) return ok({ items, total });
    }
    const of = total !== undefined ? ` of ${total}` : '';
    const incomplete = `Airflow: GET ${this.apiRoot}${path}: read ${items.length}${of} rows (${maxPages} pages of ${PAGE_LIMIT}); the rest was not read`;
    return ok({ items, total, incomplete });
  }
}

async function probe(base: string, root: string, ctx: AdapterContext, headers: Record<string, string>) {
  const what = `Airflow: GET ${root}/version`;
  const opened = await openUrl(`${base}${root}/version`, what, ctx, 'application/json', { headers });
  if (!opened.ok) return { opened };
  const version = await parseJsonBody(opened.res, what, Version, ctx);
  return { opened, version };
}

function basicHeaders(ctx: AdapterContext): Record<string, string> {
  const { AIRFLOW_USERNAME: u, AIRFLOW_PASSWORD: p, AIRFLOW_TOKEN: t } = ctx.config;
  if (u && p) return { authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` };
  return t ? { authorization: `Bearer ${t}` } : {};
}

const majorOf = (v: string | undefined, dflt: 2 | 3): 2 | 3 => {
  const m = Number(v?.match(/^(\d+)\./)?.[1]);
  return m >= 3 ? 3 : m === 2 ? 2 : dflt;
};

type Probe = Awaited<ReturnType<typeof probe>>;
const statusOf = (p: Probe): number | undefined =>
  p.opened.ok ? 200 : p.opened.result.status === 'ok' ? undefined : p.opened.result.httpStatus;
const problemOf = (p: Probe): Upstream<never> | undefined => {
  if (!p.opened.ok) return p.opened.result;
  return p.version && p.version.status !== 'ok' ? p.version : undefined;
};

/**
 * Connects to AIRFLOW_BASE_URL: probes `/api/v2/version` (Airflow 3; a 401 there still means v2 is
 * spoken) then `/api/v1/version` (Airflow 2), logging in for a JWT on Airflow 3.
 */
export async function connectAirflow(ctx: AdapterContext): Promise<Upstream<AirflowClient>> {
  const raw = ctx.config.AIRFLOW_BASE_URL;
  if (!raw)
    return upstreamError(
      'AIRFLOW_BASE_URL is not set: point it at the Airflow webserver / API server.',
      false,
    );
  const base = raw.replace(/\/+$/, '');
  const v2 = await probe(base, '/api/v2', ctx, {});
  const v2Status = statusOf(v2);
  if (v2Status === undefined) {
    const p = problemOf(v2);
    return upstreamError(`Airflow at ${base} unreachable: ${p && p.status !== 'ok' ? p.message : ''}`, true);
  }
  if (v2.version?.status === 'ok') {
    const v = v2.version.data.version;
    return connected(new AirflowClient(base, ctx, majorOf(v, 3), v));
  }
  if (v2Status === 200 && v2.version) return v2.version;
  const v1 = await probe(base, '/api/v1', ctx, basicHeaders(ctx));
  if (v1.version?.status === 'ok') {
    const v = v1.version.data.version;
    return ok(new AirflowClient(base, ctx, majorOf(v, 2), v));
  }
  // /api/v2 exists but wants a token (and /api/v1 does not answer): Airflow 3.
  if (v2Status === 401 || v2Status === 403) return connected(new AirflowClient(base, ctx, 3));
  const v1Status = statusOf(v1);
  if (v1Status === 401 || v1Status === 403) return ok(new AirflowClient(base, ctx, 2));
  const p = problemOf(v1);
  const why = p && p.status !== 'ok' ? p.message : 'no version endpoint';
  const retryable = p?.status === 'error' && p.retryable;
  return upstreamError(
    `No Airflow REST API found at ${base} (probed /api/v2 and /api/v1): ${why}`,
    retryable,
  );
}

/** Airflow 3: fetch the JWT up front (and learn the version when the probe needed auth). */
async function connected(client: AirflowClient): Promise<Upstream<AirflowClient>> {
  if (!client.hasToken()) {
    const token = await client.login();
    if (token.status !== 'ok') return token;
  }
  if (!client.version) {
    const v = await client.get('/version', Version);
    if (v.status === 'ok') client.version = v.data.version;
  }
  return ok(client);
}
