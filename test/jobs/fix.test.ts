import { UnrecoverableError } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubClient } from '../../src/adapters/git/github.ts';
import type { Collection } from '../../src/adapters/types.ts';
import { TransientError } from '../../src/core/errors.ts';
import type { Report } from '../../src/core/report.ts';
import { type FixProposal, proposeFix } from '../../src/diagnosis/fix.ts';
import { branchFor, FixJobData, fixJobId, runFix } from '../../src/jobs/fix.ts';
import { airflowRepo, WAREHOUSE_DAG } from '../adapters/git/fixtures.ts';
import {
  git,
  type SeededRepo,
  scenarioDir,
  scenarioReport,
  seedBareRepo,
  testCtx,
} from '../adapters/git/helpers.ts';
import { type FakeGitHub, startFakeGitHub } from '../support/fakeGitHub.ts';

let gh: FakeGitHub;
let report: Report;
let collection: Collection;

beforeAll(async () => {
  gh = await startFakeGitHub();
  ({ report, collection } = await scenarioReport(scenarioDir('airflow-execution-timeout')));
});
afterAll(() => gh.close());

async function setup(): Promise<{ repo: SeededRepo; proposal: FixProposal }> {
  gh.prs.length = 0;
  const repo = seedBareRepo({ 'airflow/dags/warehouse/warehouse_nightly.py': WAREHOUSE_DAG });
  const out = await proposeFix(report, collection, testCtx(), { repos: [airflowRepo(repo.url)] });
  if (!out.proposal) throw new Error(out.words);
  return { repo, proposal: out.proposal };
}

const deps = () => {
  const { config, log } = testCtx({ GITHUB_API_URL: gh.base, GITHUB_TOKEN: 'ghp_test_token_value' });
  return { config, log, github: createGitHubClient(config) };
};
const data = (proposal: FixProposal) => ({ proposal, report, approvedBy: 'U0APPROVER' });
const heads = (bare: string) =>
  git(bare, 'for-each-ref', '--format=%(refname)', 'refs/heads/').split('\n').filter(Boolean);

describe('fix job: heal/<incident> branch, two commits, pull request', () => {
  it('branches from the base SHA with exactly the fix and the test commit, opens a PR, leaves main alone', async () => {
    const { repo, proposal } = await setup();
    try {
      const before = gh.prs.length;
      const res = await runFix(data(proposal), deps());
      const branch = branchFor(report.id);
      expect(res).toMatchObject({ branch, reused: false });
      expect(git(repo.url, 'rev-parse', 'refs/heads/main')).toBe(repo.sha);
      expect(heads(repo.url).sort()).toEqual(['refs/heads/heal/inc_0123abcd', 'refs/heads/main']);
      const commits = git(repo.url, 'rev-list', '--reverse', `${repo.sha}..${branch}`).split('\n');
      expect(commits).toEqual([res.fixSha, res.testSha]);
      expect(git(repo.url, 'rev-parse', `${res.fixSha}^`)).toBe(repo.sha);
      const files = (sha: string) => git(repo.url, 'diff-tree', '--no-commit-id', '--name-only', '-r', sha);
      expect(files(res.fixSha)).toBe('airflow/dags/warehouse/warehouse_nightly.py');
      expect(files(res.testSha ?? '')).toBe(
        'airflow/tests/test_heal_warehouse_nightly_build_order_facts_timeout.py',
      );
      for (const sha of commits)
        expect(git(repo.url, 'log', '-1', '--format=%B', sha)).toContain(`Run: ${report.pinned.ref}`);
      expect(git(repo.url, 'log', '-1', '--format=%an <%ae>', res.fixSha)).toBe(
        'Heal Test <heal@example.com>',
      );
      expect(gh.prs.length).toBe(before + 1);
      const pr = gh.prs.at(-1);
      expect(pr).toMatchObject({ owner: 'acme', repo: 'pipelines', head: branch, base: 'main' });
      expect(pr?.body).toContain('airflow.task_timeout');
      expect(pr?.body).toContain(proposal.baseSha);
      expect(gh.requests.some((r) => r.auth === 'token ghp_test_token_value')).toBe(true);
      expect(res.pullRequest.url).toMatch(/\/acme\/pipelines\/pull\/\d+$/);

      const again = await runFix(data(proposal), deps());
      expect(again).toMatchObject({
        reused: true,
        fixSha: res.fixSha,
        testSha: res.testSha,
        pullRequest: res.pullRequest,
      });
      expect(gh.prs.length).toBe(before + 1);
    } finally {
      repo.dispose();
    }
  });

  it('reports a diff that does not apply and pushes nothing', async () => {
    const { repo, proposal } = await setup();
    try {
      const broken = {
        ...proposal,
        fix: { ...proposal.fix, diff: proposal.fix.diff.replace('timedelta(hours=2)', 'timedelta(hours=7)') },
      };
      const before = gh.prs.length;
      const err = await runFix(data(broken), deps()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnrecoverableError);
      expect(String((err as Error).message)).toMatch(
        /fix does not apply to the base commit; nothing was pushed/,
      );
      expect(heads(repo.url)).toEqual(['refs/heads/main']);
      expect(git(repo.url, 'rev-parse', 'refs/heads/main')).toBe(repo.sha);
      expect(gh.prs.length).toBe(before);
    } finally {
      repo.dispose();
    }
  });

  it('retries a failed pull-request call without pushing twice', async () => {
    const { repo, proposal } = await setup();
    try {
      gh.failCreates(502);
      const err = await runFix(data(proposal), deps()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransientError);
      const tip = git(repo.url, 'rev-parse', `refs/heads/${branchFor(report.id)}`);
      const res = await runFix(data(proposal), deps());
      expect(res.reused).toBe(true);
      expect(res.testSha).toBe(tip);
    } finally {
      repo.dispose();
    }
  });

  it('never overwrites a heal branch holding other commits, and never targets the default branch', async () => {
    const { repo, proposal } = await setup();
    try {
      git(repo.url, 'branch', branchFor(report.id), repo.sha);
      const err = await runFix(data(proposal), deps()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnrecoverableError);
      expect(git(repo.url, 'rev-parse', `refs/heads/${branchFor(report.id)}`)).toBe(repo.sha);
      const onDefault = { ...proposal, defaultBranch: branchFor(report.id) };
      await expect(runFix(data(onDefault), deps())).rejects.toThrow(/default branch/);
    } finally {
      repo.dispose();
    }
  });

  it('gives the same job id to the same change and another to a different one', async () => {
    const { repo, proposal } = await setup();
    repo.dispose();
    expect(fixJobId(proposal)).toBe(fixJobId(structuredClone(proposal)));
    expect(fixJobId({ ...proposal, fix: { ...proposal.fix, diff: `${proposal.fix.diff} ` } })).not.toBe(
      fixJobId(proposal),
    );
    expect(fixJobId(proposal)).toMatch(/^fix-inc_0123abcd-[0-9a-f]{16}$/);
    expect(FixJobData.safeParse(data(proposal)).success).toBe(true);
  });
});
