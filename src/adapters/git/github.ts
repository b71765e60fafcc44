/**
 * The GitHub REST calls Heal makes (pull requests only), through @octokit/rest with a configurable base URL
 * (GitHub Enterprise, tests). Upstream failure is an `Upstream` result with GitHub's own message.
 */
import { Octokit } from '@octokit/rest';
import { z } from 'zod';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import { ok, type Upstream, upstreamError } from '../../core/upstream.ts';

export const PullRequest = z.object({
  number: z.number().int(),
  html_url: z.string(),
  state: z.string(),
  head: z.object({ ref: z.string(), sha: z.string() }),
  base: z.object({ ref: z.string() }),
});
export type PullRequest = z.infer<typeof PullRequest>;

export interface OpenPullRequest {
  /** `owner/name`. */
  repo: string;
  head: string;
  base: string;
  title: string;
  body: string;
}

/** GitHub caps a pull request body at 65,536 characters. */
export const MAX_PR_BODY = 65_000;

export interface GitHubClient {
  /** The open pull request from `head` in `repo`, if any. */
  findOpen(repo: string, head: string): Promise<Upstream<PullRequest | null>>;
  open(pr: OpenPullRequest): Promise<Upstream<PullRequest>>;
}

function split(repo: string): { owner: string; repo: string } {
  const [owner = '', name = ''] = repo.split('/');
  return { owner, repo: name };
}

function failure<T>(err: unknown): Upstream<T> {
  const status = typeof err === 'object' && err && 'status' in err ? Number(err.status) : undefined;
  const retryable = status === undefined || status === 429 || status >= 500;
  const what = status ? `GitHub HTTP ${status}` : 'GitHub unreachable';
  return upstreamError(`${what}: ${errorMessage(err).slice(0, 500)}`, retryable, status);
}

/** Builds the client from GITHUB_API_URL and GITHUB_TOKEN. */
export function createGitHubClient(
  config: Pick<Config, 'GITHUB_API_URL' | 'GITHUB_TOKEN' | 'HEAL_HTTP_TIMEOUT_MS'>,
): GitHubClient {
  const octokit = new Octokit({
    baseUrl: config.GITHUB_API_URL.replace(/\/+$/, ''),
    ...(config.GITHUB_TOKEN ? { auth: config.GITHUB_TOKEN } : {}),
    userAgent: 'heal-bot',
    request: { timeout: config.HEAL_HTTP_TIMEOUT_MS },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  return {
    async findOpen(repo, head) {
      const r = split(repo);
      try {
        const res = await octokit.rest.pulls.list({ ...r, state: 'open', head: `${r.owner}:${head}` });
        const found = z.array(PullRequest).parse(res.data);
        return ok(found.find((p) => p.head.ref === head) ?? null);
      } catch (err) {
        return failure(err);
      }
    },
    async open(pr) {
      try {
        const res = await octokit.rest.pulls.create({
          ...split(pr.repo),
          head: pr.head,
          base: pr.base,
          title: pr.title.slice(0, 250),
          body: pr.body.slice(0, MAX_PR_BODY),
          maintainer_can_modify: true,
        });
        return ok(PullRequest.parse(res.data));
      } catch (err) {
        return failure(err);
      }
    },
  };
}
