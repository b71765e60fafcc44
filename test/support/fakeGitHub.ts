/**
 * A fake GitHub REST API on 127.0.0.1 for the pull-request calls Heal makes (list and create), recording
 * every request. Payloads follow GitHub's shapes (number, html_url, state, head.ref/sha, base.ref).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedPr {
  owner: string;
  repo: string;
  head: string;
  base: string;
  title: string;
  body: string;
  number: number;
}

export interface FakeGitHub {
  base: string;
  prs: RecordedPr[];
  requests: Array<{ method: string; path: string; auth?: string }>;
  /** Make the next N create calls fail with this status. */
  failCreates(status: number, times?: number): void;
  close(): Promise<void>;
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const prs: RecordedPr[] = [];
  const requests: FakeGitHub['requests'] = [];
  let failures: { status: number; times: number } | null = null;
  const toJson = (pr: RecordedPr, base: string) => ({
    number: pr.number,
    html_url: `${base}/${pr.owner}/${pr.repo}/pull/${pr.number}`,
    state: 'open',
    title: pr.title,
    body: pr.body,
    head: { ref: pr.head, sha: '0'.repeat(40) },
    base: { ref: pr.base },
  });
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
      });
      const m = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(url.pathname);
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      if (!m?.[1] || !m[2])
        return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      const [owner, repo] = [m[1], m[2]];
      if (req.method === 'GET') {
        const head = url.searchParams.get('head');
        const list = prs.filter(
          (p) => p.owner === owner && p.repo === repo && (!head || `${owner}:${p.head}` === head),
        );
        return send(
          200,
          list.map((p) => toJson(p, fake.base)),
        );
      }
      if (req.method === 'POST') {
        if (failures && failures.times > 0) {
          failures.times--;
          return send(failures.status, { message: 'Server Error' });
        }
        const b = JSON.parse(raw || '{}');
        if (prs.some((p) => p.owner === owner && p.repo === repo && p.head === b.head))
          return send(422, {
            message: 'Validation Failed',
            errors: [{ message: `A pull request already exists for ${owner}:${b.head}.` }],
          });
        const pr: RecordedPr = {
          owner,
          repo,
          head: b.head,
          base: b.base,
          title: b.title,
          body: b.body,
          number: prs.length + 1,
        };
        prs.push(pr);
        return send(201, toJson(pr, fake.base));
      }
      send(405, { message: 'Method Not Allowed' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const fake: FakeGitHub = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    prs,
    requests,
    failCreates(status, times = 1) {
      failures = { status, times };
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
  return fake;
}
