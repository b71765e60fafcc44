import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * One run the fake serves: its run object (data of GET /runs/{id}/) and its artifacts by path. Like dbt Cloud,
 * an artifact asked for without `?step=` is the last step's (`artifacts`); `steps` holds each step's own, by
 * the step's 1-based `index` (`?step=N`).
 */
export interface FakeRun {
  run: Record<string, unknown>;
  artifacts: Record<string, unknown>;
  steps?: Record<number, Record<string, unknown>>;
}

export interface FakeDbtCloudOptions {
  accountId: string;
  token: string;
  runs: FakeRun[];
  /** Forced answers by path prefix (after /api/v2/accounts/{id}): a status and a raw body. */
  override?: Record<string, { status: number; body: string }>;
}

const envelope = (code: number, data: unknown, message = 'Success!') =>
  JSON.stringify({
    status: { code, is_success: code < 400, user_message: message, developer_message: '' },
    data,
  });

/**
 * A local dbt Cloud Admin API v2 (127.0.0.1, ephemeral port) built from the documented shapes: runs with
 * `include_related`, artifacts at `/runs/{id}/artifacts/{path}` (raw artifact JSON), the runs list filtered by
 * `job_definition_id` and ordered by `-id`, bearer auth answering 401 in the v2 envelope.
 */
export async function startFakeDbtCloud(opts: FakeDbtCloudOptions) {
  const requests: string[] = [];
  const prefix = `/api/v2/accounts/${opts.accountId}`;
  const send = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push(`${u.pathname}${u.search}`);
    if (!u.pathname.startsWith(prefix)) return send(res, 404, envelope(404, null, 'Not found.'));
    if (
      req.headers.authorization !== `Token ${opts.token}` &&
      req.headers.authorization !== `Bearer ${opts.token}`
    )
      return send(res, 401, envelope(401, null, 'Invalid token.'));
    const rest = u.pathname.slice(prefix.length);
    for (const [p, o] of Object.entries(opts.override ?? {}))
      if (rest.startsWith(p)) return send(res, o.status, o.body);
    if (rest === '/runs/') {
      const job = u.searchParams.get('job_definition_id');
      const list = opts.runs
        .map((r) => r.run)
        .filter((r) => !job || String(r.job_definition_id) === job)
        .sort((a, b) => Number(b.id) - Number(a.id))
        .slice(0, Number(u.searchParams.get('limit') ?? 100));
      return send(res, 200, envelope(200, list));
    }
    const m = rest.match(/^\/runs\/(\d+)\/(?:artifacts\/(.+))?$/);
    const run = m ? opts.runs.find((r) => String(r.run.id) === m[1]) : undefined;
    if (!m || !run) return send(res, 404, envelope(404, null, 'The requested resource was not found.'));
    if (!m[2]) return send(res, 200, envelope(200, run.run));
    const step = u.searchParams.get('step');
    const files = step === null ? run.artifacts : run.steps?.[Number(step)];
    if (!files) return send(res, 404, envelope(404, null, `Run ${m[1]} has no step ${step}.`));
    const art = files[m[2]];
    if (art === undefined) return send(res, 404, envelope(404, null, `Artifact ${m[2]} not found.`));
    return send(res, 200, typeof art === 'string' ? art : JSON.stringify(art));
  };
  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A dbt Cloud run object in the v2 shape, with one `dbt build` step whose logs are `logs`. */
export function cloudRun(id: number, jobId: number, status: 10 | 20, extra: Record<string, unknown> = {}) {
  return {
    id,
    account_id: 1,
    job_definition_id: jobId,
    status,
    status_humanized: status === 10 ? 'Success' : 'Error',
    is_error: status === 20,
    is_complete: true,
    git_branch: 'main',
    git_sha: null,
    href: `https://cloud.getdbt.com/deploy/1/projects/2/runs/${id}/`,
    run_steps: [],
    job: { id: jobId, name: 'nightly' },
    ...extra,
  };
}

/** Reads a scenario's local artifacts as a fake run's artifacts. */
export function artifactsFrom(targetDir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of ['run_results.json', 'manifest.json', 'sources.json'])
    try {
      out[f] = JSON.parse(readFileSync(join(targetDir, f), 'utf8'));
    } catch {}
  return out;
}
