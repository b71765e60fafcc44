/**
 * The `fix` job: after an approver submits the modal, create `heal/<incident>` from the base commit, commit
 * the fix and then the prevention test (messages carry the run id), push that new branch, and open a pull
 * request whose body is the investigation report. Never pushes to, force-pushes or merges into any existing
 * branch; a retried job finds its branch and pull request and returns them (idempotent).
 */
import { createHash } from 'node:crypto';
import { type Job, type JobsOptions, type Queue, UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { GitClone } from '../adapters/git/git.ts';
import {
  createGitHubClient,
  type GitHubClient,
  MAX_PR_BODY,
  type PullRequest,
} from '../adapters/git/github.ts';
import { isAllowedPath } from '../adapters/git/repos.ts';
import type { Config } from '../core/config.ts';
import { errorMessage, TransientError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { Report } from '../core/report.ts';
import type { FixProposal } from '../diagnosis/fix.ts';
import { renderMarkdown } from '../report/markdown.ts';

export const FIX_QUEUE = 'fix';

const Change = z.object({ files: z.array(z.string()), diff: z.string().min(1), message: z.string().min(1) });

/** The proposal as the job carries it (zod mirror of FixProposal in src/diagnosis/fix.ts). */
export const FixProposalSchema = z.object({
  incidentId: z.string().regex(/^inc_[a-z0-9]+$/),
  runId: z.string().min(1),
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
  url: z.string().min(1),
  defaultBranch: z.string().min(1),
  baseSha: z.string().regex(/^[0-9a-f]{40}$/),
  codePinned: z.boolean(),
  dataPinned: z.boolean(),
  dataRef: z.string().nullable(),
  source: z.enum(['template', 'claude']),
  template: z.string(),
  title: z.string().min(1),
  explain: z.string(),
  allowed: z.array(z.string()),
  fix: Change,
  prevention: Change.extend({ why: z.string(), title: z.string() }).nullable(),
}) satisfies z.ZodType<FixProposal>;

export const FixJobData = z.object({
  proposal: FixProposalSchema,
  /** The investigation report: the pull request body. */
  report: Report,
  approvedBy: z.string().min(1),
  channel: z.string().min(1).optional(),
  threadTs: z.string().min(1).optional(),
});
export type FixJobData = z.infer<typeof FixJobData>;

export interface FixJobResult {
  branch: string;
  fixSha: string;
  testSha: string | null;
  pullRequest: { number: number; url: string };
  /** True when the branch already existed from an earlier attempt (nothing was pushed this time). */
  reused: boolean;
}

export const FIX_JOB_OPTIONS: JobsOptions = {
  attempts: 4,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 30 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** `heal/<incident>`: the only branch a fix job ever pushes. */
export const branchFor = (incidentId: string) => `heal/${incidentId}`;

/** Deterministic job id: the incident plus a digest of the exact change (no `:`, as BullMQ requires). */
export function fixJobId(p: FixProposal): string {
  const digest = createHash('sha256')
    .update([p.baseSha, p.fix.diff, p.prevention?.diff ?? ''].join('\0'))
    .digest('hex');
  return `fix-${p.incidentId}-${digest.slice(0, 16)}`;
}

/** Enqueues the fix once per (incident, change). */
export async function enqueueFix(queue: Queue, data: FixJobData): Promise<string> {
  const parsed = FixJobData.parse(data);
  const jobId = fixJobId(parsed.proposal);
  await queue.add('fix', parsed, { ...FIX_JOB_OPTIONS, jobId });
  return jobId;
}

export interface FixDeps {
  config: Pick<Config, 'GITHUB_TOKEN' | 'GITHUB_API_URL' | 'HEAL_GIT_AUTHOR' | 'HEAL_HTTP_TIMEOUT_MS'>;
  log: Logger;
  github?: GitHubClient;
}

function prBody(data: FixJobData): string {
  const p = data.proposal;
  const head = [
    `**${p.title}**`,
    '',
    p.explain,
    ...(p.prevention ? ['', `**Prevention:** ${p.prevention.title}. ${p.prevention.why}`] : []),
    '',
    `Run \`${p.runId}\` · base \`${p.baseSha}\` (${p.codePinned ? 'the failing run’s pinned commit' : `${p.defaultBranch} when the fix was proposed: the run did not report its commit`}) · data ref ${p.dataRef ? `\`${p.dataRef}\`` : 'not pinned'} · approved by ${data.approvedBy} · ${p.source === 'template' ? `template \`${p.template}\`` : 'proposed by Claude'}`,
    '',
    '---',
    '',
  ].join('\n');
  return `${head}${renderMarkdown(data.report)}`.slice(0, MAX_PR_BODY);
}

async function commitChange(
  clone: GitClone,
  change: { diff: string; message: string },
  allowed: string[],
  what: string,
) {
  const touched = await clone.touched(change.diff);
  const outside = touched.filter((f) => !isAllowedPath(f, allowed));
  if (outside.length)
    throw new UnrecoverableError(
      `The ${what} touches unmapped paths (${outside.join(', ')}); nothing was pushed.`,
    );
  try {
    await clone.apply(change.diff);
  } catch (err) {
    throw new UnrecoverableError(
      `The ${what} does not apply to the base commit; nothing was pushed. ${errorMessage(err)}`,
    );
  }
  return clone.commitAll(change.message);
}

/** An existing `heal/<incident>` branch is reused only when it is exactly this change on this base. */
async function existingBranch(clone: GitClone, p: FixProposal, branch: string) {
  const tip = await clone.remoteBranch(branch);
  if (!tip) return null;
  const depth = p.prevention ? 2 : 1;
  const base = await clone.resolve(`origin/${branch}~${depth}`);
  const log = await clone.run(['log', '--format=%B%x00', `${base ?? tip}..origin/${branch}`]).catch(() => '');
  if (base !== p.baseSha || !log.includes(`Run: ${p.runId}`))
    throw new UnrecoverableError(
      `${branch} already exists with other commits; Heal never overwrites a branch.`,
    );
  const fixSha = (await clone.resolve(`origin/${branch}~${depth - 1}`)) ?? tip;
  return { fixSha, testSha: p.prevention ? tip : null };
}

async function pullRequest(gh: GitHubClient, data: FixJobData, branch: string): Promise<PullRequest> {
  const p = data.proposal;
  const found = await gh.findOpen(p.repo, branch);
  if (found.status === 'ok' && found.data) return found.data;
  if (found.status === 'error' && found.retryable) throw new TransientError(found.message);
  const opened = await gh.open({
    repo: p.repo,
    head: branch,
    base: p.defaultBranch,
    title: `Heal: ${p.title}`,
    body: prBody(data),
  });
  if (opened.status === 'ok') return opened.data;
  const msg = `The branch ${branch} was pushed but the pull request could not be opened: ${opened.message}`;
  if (opened.status === 'error' && opened.retryable) throw new TransientError(msg);
  throw new UnrecoverableError(msg);
}

/** Runs one fix job: branch, two commits, push, pull request. Errors say whether anything was pushed. */
export async function runFix(raw: unknown, deps: FixDeps): Promise<FixJobResult> {
  const data = FixJobData.parse(raw);
  const p = data.proposal;
  const branch = branchFor(p.incidentId);
  if (branch === p.defaultBranch)
    throw new UnrecoverableError(`Refusing to push to the default branch ${branch}.`);
  const clone = await GitClone.openWith(p.url, deps.config).catch((err) => {
    throw new TransientError(`The repository ${p.repo} could not be cloned: ${errorMessage(err)}`);
  });
  try {
    let shas = await existingBranch(clone, p, branch);
    const reused = shas !== null;
    if (!shas) {
      if ((await clone.resolve(p.baseSha)) !== p.baseSha)
        throw new UnrecoverableError(`The base commit ${p.baseSha} is not in ${p.repo}; nothing was pushed.`);
      await clone.checkout(p.baseSha);
      const fixSha = await commitChange(clone, p.fix, p.allowed, 'fix');
      const testSha = p.prevention
        ? await commitChange(clone, p.prevention, p.allowed, 'prevention test')
        : null;
      await clone.pushNewBranch(branch);
      shas = { fixSha, testSha };
      deps.log.info({ branch, repo: p.repo, fixSha, testSha }, 'fix branch pushed');
    }
    const pr = await pullRequest(deps.github ?? createGitHubClient(deps.config), data, branch);
    return { branch, ...shas, pullRequest: { number: pr.number, url: pr.html_url }, reused };
  } finally {
    await clone.dispose();
  }
}

/** The BullMQ processor of the `fix` queue. */
export function createFixProcessor(deps: FixDeps) {
  return (job: Job) => runFix(job.data, { ...deps, log: deps.log.child({ jobId: job.id }) });
}
