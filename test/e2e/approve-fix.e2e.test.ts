import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentId } from '../../src/core/incident.ts';
import { AuditLog } from '../../src/jobs/audit.ts';
import { WAREHOUSE_DAG } from '../adapters/git/fixtures.ts';
import { git, type SeededRepo, seedBareRepo } from '../adapters/git/helpers.ts';
import { type FakeGitHub, startFakeGitHub } from '../support/fakeGitHub.ts';
import { type FakeSlack, sendSigned, slashCommandBody, startFakeSlack } from '../support/fakeSlack.ts';
import {
  expandScenario,
  type FixtureServer,
  loadScenario,
  startFixtureServer,
} from '../support/fixtureServer.ts';
import { freePort, type Proc, spawnHeal, stop, waitFor, waitHealthy } from './procs.ts';

const SCENARIO = join(import.meta.dirname, '..', 'scenarios', 'airflow-execution-timeout');
const DAG = 'warehouse_nightly';
const RUN = 'scheduled__2026-11-19T01:00:00+00:00';
const SECRET = 'e2e-fix-signing-secret-0123456789ab';
const CHANNEL = 'C0FIXES01';
const APPROVER = 'U0APPROV1';
const STRANGER = 'U0STRANGR';
const ONCALL = 'S0ONCALL9';
const REDIS_URL = 'redis://127.0.0.1:6379/9';
const DAG_PATH = 'airflow/dags/warehouse/warehouse_nightly.py';
const ID = incidentId({ platform: 'airflow', dagId: DAG, runId: RUN });
const BRANCH = `heal/${ID}`;

/** Fake Slack, fixture Airflow, fake GitHub, a seeded bare repo mapped by HEAL_REPOS_FILE, web + worker. */
interface FixStack {
  slack: FakeSlack;
  gh: FakeGitHub;
  repo: SeededRepo;
  redis: Redis;
  prefix: string;
  post(body: string): ReturnType<typeof sendSigned>;
  close(): Promise<void>;
}

async function startFixStack(timeoutMs: number): Promise<FixStack> {
  const slack = await startFakeSlack();
  const gh = await startFakeGitHub();
  const fixture: FixtureServer = await startFixtureServer(SCENARIO);
  const repo = seedBareRepo({ [DAG_PATH]: WAREHOUSE_DAG });
  const dir = mkdtempSync(join(tmpdir(), 'heal-e2e-repos-'));
  const reposFile = join(dir, 'repos.yaml');
  writeFileSync(
    reposFile,
    [
      'repos:',
      '  - repo: acme/pipelines',
      `    url: ${repo.url}`,
      '    defaultBranch: main',
      '    airflow:',
      '      - dagsFolder: /opt/airflow/dags/',
      '        path: airflow/dags/',
      '        tests: airflow/tests/',
      '',
    ].join('\n'),
  );
  const redis = new Redis(REDIS_URL);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const prefix = `heale2e-fix-${randomUUID().slice(0, 8)}`;
  const env: Record<string, string> = {
    REDIS_URL,
    PORT: String(port),
    SLACK_BOT_TOKEN: 'xoxb-e2e-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    HEAL_QUEUE_PREFIX: prefix,
    HEAL_APPROVERS: APPROVER,
    HEAL_JOB_LOCK_MS: '4000',
    HEAL_REPOS_FILE: reposFile,
    GITHUB_API_URL: gh.base,
    GITHUB_TOKEN: 'ghp_e2e_token_value',
    HEAL_GIT_AUTHOR: 'Heal E2E <heal-e2e@example.com>',
    HEAL_ONCALL_GROUP: ONCALL,
    HEAL_FIX_APPROVAL_TIMEOUT_MS: String(timeoutMs),
    LOG_LEVEL: 'info',
    ...expandScenario(loadScenario(SCENARIO), fixture.base).env,
  };
  const procs: Proc[] = [];
  const close = async () => {
    await Promise.all(procs.map((p) => stop(p)));
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await Promise.all([slack.close(), gh.close(), fixture.close()]);
    repo.dispose();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const web = spawnHeal('web', env);
    procs.push(web);
    await waitHealthy(base, web);
    const worker = spawnHeal('worker', env);
    procs.push(worker);
    await waitFor('worker ready', () => worker.output().includes('worker ready'));
  } catch (err) {
    await close();
    throw err;
  }
  const post = (body: string) =>
    sendSigned(`${base}/slack/events`, body, { secret: SECRET, contentType: 'form' });
  return { slack, gh, repo, redis, prefix, post, close };
}

const form = (payload: unknown) => `payload=${encodeURIComponent(JSON.stringify(payload))}`;
const TEAM = { id: 'T0001', domain: 'example' };
const user = (id: string) => ({ id, username: id.toLowerCase(), name: id.toLowerCase(), team_id: 'T0001' });

/** A `block_actions` click on the thread parent (corpus BlockActionPayload.json shape). */
function clickBody(who: string, messageTs: string): string {
  return form({
    type: 'block_actions',
    team: TEAM,
    user: user(who),
    api_app_id: 'A0HEAL',
    token: 'x8GlZSSaBheFZWjZPbxPasEY',
    container: { type: 'message', message_ts: messageTs, channel_id: CHANNEL, is_ephemeral: false },
    trigger_id: `13345224609.738474920.${randomUUID().slice(0, 8)}`,
    channel: { id: CHANNEL, name: 'data-alerts' },
    message: { type: 'message', ts: messageTs, text: 'Heal', blocks: [] },
    response_url: 'https://hooks.slack.com/actions/T0001/1/x',
    actions: [
      {
        action_id: 'heal_approve_fix',
        block_id: 'heal_actions',
        text: { type: 'plain_text', text: 'Approve fix', emoji: true },
        value: ID,
        type: 'button',
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  });
}

/** The modal's `view_submission` (corpus ViewSubmissionPayload.json shape), echoing the opened view. */
function submitBody(who: string, view: Record<string, unknown>): string {
  return form({
    type: 'view_submission',
    team: TEAM,
    user: user(who),
    api_app_id: 'A0HEAL',
    token: 'x8GlZSSaBheFZWjZPbxPasEY',
    trigger_id: '13345224609.738474920.submit',
    view: {
      id: 'V0FIXMODAL',
      team_id: 'T0001',
      type: 'modal',
      title: view.title,
      submit: view.submit,
      close: view.close,
      blocks: view.blocks,
      private_metadata: view.private_metadata,
      callback_id: view.callback_id,
      state: { values: {} },
      hash: '156663117.cd33ad1f',
      app_id: 'A0HEAL',
      bot_id: 'BHEALBOT',
    },
    response_urls: [],
    is_enterprise_install: false,
  });
}

const heads = (bare: string) =>
  git(bare, 'for-each-ref', '--format=%(refname)', 'refs/heads/').split('\n').filter(Boolean).sort();

/** Runs /heal and waits until the incident is published; returns the thread parent's ts. */
async function investigate(s: FixStack): Promise<string> {
  const res = await s.post(
    slashCommandBody(`airflow ${DAG} ${RUN}`, { channel: CHANNEL, user: 'U0REQUEST' }),
  );
  expect(res.status).toBe(200);
  const rec = await waitFor(
    'published',
    async () => {
      const r = await s.redis.hgetall(`${s.prefix}:incident:${ID}`);
      return r.checkpoint === 'published' ? r : undefined;
    },
    40_000,
  );
  return String(rec.parentTs);
}

/** Thread replies (in the parent's thread) whose text matches. */
const replies = (s: FixStack, parentTs: string, re: RegExp) =>
  [...s.slack.messages.values()].filter((m) => m.thread_ts === parentTs && re.test(JSON.stringify(m)));

async function openModal(s: FixStack, parentTs: string): Promise<Record<string, unknown>> {
  const before = s.slack.views.length;
  expect((await s.post(clickBody(APPROVER, parentTs))).status).toBe(200);
  const opened = await waitFor('views.open', () => s.slack.views[before]);
  return opened.view;
}

describe('web + worker: Approve fix → heal/<incident> branch and a pull request (bare repo, fake GitHub)', () => {
  let s: FixStack;
  const audit = () => new AuditLog(s.redis, s.prefix).list({ incident: ID });
  beforeAll(async () => {
    s = await startFixStack(3_600_000);
  }, 45_000);
  afterAll(async () => {
    await s?.close();
  });

  it('refuses a non-approver (audited, nothing pushed), then an approved modal opens one pull request', async () => {
    const parentTs = await investigate(s);
    const parent = () => JSON.stringify(s.slack.messages.get(parentTs)?.blocks);
    expect(parent()).toContain('"action_id":"heal_approve_fix"');
    expect(parent()).toContain('Proposed fix');

    expect((await s.post(clickBody(STRANGER, parentTs))).status).toBe(200);
    const refused = await waitFor('refusal audited', async () =>
      (await audit()).find((e) => e.who === STRANGER),
    );
    expect(refused).toMatchObject({ what: 'heal_approve_fix', result: 'refused' });
    // The refusal is audited before it is answered: wait for the answer too.
    const answer = await waitFor('refusal answered', () =>
      s.slack.callsOf('chat.postEphemeral').find((c) => c.body.user === STRANGER),
    );
    expect(JSON.stringify(answer.body)).toContain('HEAL_APPROVERS');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(s.slack.views).toHaveLength(0);
    expect(heads(s.repo.url)).toEqual(['refs/heads/main']);
    expect(s.gh.prs).toHaveLength(0);

    const view = await openModal(s, parentTs);
    expect(view.callback_id).toBe('heal_fix_submit');
    expect(JSON.stringify(view.blocks)).toContain('Data ref pinned?');
    expect(JSON.stringify(view.blocks)).toContain('execution_timeout');
    expect(heads(s.repo.url)).toEqual(['refs/heads/main']);

    expect((await s.post(submitBody(APPROVER, view))).status).toBe(200);
    const opened = await waitFor('PR reply', () => replies(s, parentTs, /Pull request opened/)[0], 30_000);
    expect(s.gh.prs).toHaveLength(1);
    const pr = s.gh.prs[0];
    expect(pr).toMatchObject({ owner: 'acme', repo: 'pipelines', head: BRANCH, base: 'main' });
    expect(pr?.body).toContain('airflow.task_timeout');
    expect(JSON.stringify(opened)).toContain(`${s.gh.base}/acme/pipelines/pull/1`);

    expect(heads(s.repo.url)).toEqual([`refs/heads/heal/${ID}`, 'refs/heads/main'].sort());
    expect(git(s.repo.url, 'rev-parse', 'refs/heads/main')).toBe(s.repo.sha);
    const stored = JSON.parse((await s.redis.hget(`${s.prefix}:incident:${ID}`, 'report')) ?? '{}');
    const runRef = String(stored.pinned?.ref);
    expect(runRef).toContain(RUN);
    const commits = git(s.repo.url, 'rev-list', '--reverse', `${s.repo.sha}..${BRANCH}`).split('\n');
    expect(commits).toHaveLength(2);
    expect(git(s.repo.url, 'rev-parse', `${commits[0]}^`)).toBe(s.repo.sha);
    const files = (sha: string) => git(s.repo.url, 'diff-tree', '--no-commit-id', '--name-only', '-r', sha);
    expect(files(commits[0] as string)).toBe(DAG_PATH);
    expect(files(commits[1] as string)).toMatch(/^airflow\/tests\/test_heal_.*\.py$/);
    for (const sha of commits)
      expect(git(s.repo.url, 'log', '-1', '--format=%B', sha)).toContain(`Run: ${runRef}`);

    await waitFor('parent shows who approved', () => parent().includes('approved the fix'));
    expect(parent()).not.toContain('"action_id":"heal_approve_fix"');
    expect((await audit()).find((e) => e.who === APPROVER && e.result === 'accepted')).toBeDefined();
    await waitFor('fix audited', async () =>
      (await audit()).find((e) => e.what === 'fix.open' && e.result === 'done'),
    );
  }, 90_000);
});

describe('web + worker: escalation on approval timeout, then a fix whose base is gone pushes nothing', () => {
  let s: FixStack;
  beforeAll(async () => {
    s = await startFixStack(2_500);
  }, 45_000);
  afterAll(async () => {
    await s?.close();
  });

  it('mentions the on-call group when nobody approves in time; a rewritten main → reported, no heal/ branch', async () => {
    const parentTs = await investigate(s);
    const escalation = await waitFor(
      'timeout escalation',
      () => replies(s, parentTs, /has not been approved/)[0],
      20_000,
    );
    expect(JSON.stringify(escalation)).toContain(`<!subteam^${ONCALL}>`);

    // Someone rewrites main after the proposal: the DAG changed and the proposal's base commit is gone.
    const work = mkdtempSync(join(tmpdir(), 'heal-e2e-rewrite-'));
    try {
      git(work, 'clone', '--quiet', s.repo.url, 'w');
      const w = join(work, 'w');
      writeFileSync(join(w, DAG_PATH), WAREHOUSE_DAG.replace('timedelta(hours=2)', 'timedelta(minutes=150)'));
      git(w, 'commit', '--quiet', '--amend', '-am', 'pipelines (rewritten)');
      git(w, 'push', '--quiet', '--force', 'origin', 'main');
      git(s.repo.url, 'reflog', 'expire', '--expire=now', '--all');
      git(s.repo.url, 'gc', '--quiet', '--prune=now');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const main = git(s.repo.url, 'rev-parse', 'refs/heads/main');
    expect(main).not.toBe(s.repo.sha);

    const view = await openModal(s, parentTs);
    expect((await s.post(submitBody(APPROVER, view))).status).toBe(200);
    const failed = await waitFor('failure reply', () => replies(s, parentTs, /did not happen/)[0], 30_000);
    expect(JSON.stringify(failed)).toMatch(/nothing was pushed/i);
    expect(heads(s.repo.url)).toEqual(['refs/heads/main']);
    expect(git(s.repo.url, 'rev-parse', 'refs/heads/main')).toBe(main);
    expect(s.gh.prs).toHaveLength(0);
  }, 90_000);
});
