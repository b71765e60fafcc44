/**
 * A git child gets only what git needs: none of Heal's secrets reach git, its hooks, aliases or ssh, and
 * GITHUB_TOKEN still authenticates https remotes (as an http.extraHeader, never in argv or the clone).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { join, normalize } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GIT_ENV_PASSTHROUGH, GitClone, GitError, gitEnv } from '../../../src/adapters/git/git.ts';
import { git, type SeededRepo, seedBareRepo } from './helpers.ts';

/** Heal's own credentials, as they sit in its environment in production (all fake). */
const HEAL_SECRETS: Record<string, string> = {
  SLACK_BOT_TOKEN: 'xoxb-0000000000-0000000000000-FAKEhealGitEnvTest',
  SLACK_SIGNING_SECRET: 'fakehealsigningsecret0123456789ab',
  ANTHROPIC_API_KEY: 'sk-ant-api03-FAKEhealGitEnvTest0123456789',
  AIRFLOW_PASSWORD: 'fakeHealAirflowPw',
  DBT_CLOUD_TOKEN: 'dbtc_FAKEhealGitEnvTest0123456789',
  GITHUB_TOKEN: 'ghp_FAKEhealGitEnvTest0123456789abcdefgh',
  AWS_SECRET_ACCESS_KEY: 'Hq3kFAKEv8Lm/Qz2RtheaL7sXw9+Yb1NcDe5JfGa',
  REDIS_URL: 'redis://:fakeHealRedisPw@cache:6379/0',
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'credential.helper',
  GIT_CONFIG_VALUE_0: '!echo password=fakeHealHostHelper',
};

const AUTHOR = { name: 'Heal Test', email: 'heal@example.com' };

/** The child's environment, as `env` prints it from a git alias run through Heal's runner. */
async function childEnv(clone: GitClone): Promise<Map<string, string>> {
  const out = await clone.run(['-c', 'alias.envdump=!env', 'envdump']);
  return new Map(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
  );
}

describe('the git child environment', () => {
  let repo: SeededRepo;
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    repo = seedBareRepo({ 'dags/etl.py': 'print("etl")\n' });
  });
  afterAll(() => repo?.dispose());
  beforeEach(() => {
    for (const [k, v] of Object.entries(HEAL_SECRETS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('carries none of Heal secrets, only what git needs, and a throwaway HOME', async () => {
    const clone = await GitClone.open({ url: repo.url, author: AUTHOR });
    try {
      const env = await childEnv(clone);
      const dump = [...env].map(([k, v]) => `${k}=${v}`).join('\n');
      for (const [name, value] of Object.entries(HEAL_SECRETS)) {
        if (!name.startsWith('GIT_CONFIG_')) expect(env.has(name), name).toBe(false);
        if (value.length > 8) expect(dump, name).not.toContain(value);
      }
      expect(env.get('PATH')).toContain(process.env.PATH); // git prepends its exec-path
      expect(env.get('GIT_TERMINAL_PROMPT')).toBe('0');
      expect(env.get('GIT_CONFIG_NOSYSTEM')).toBe('1');
      expect(env.get('HOME')).not.toBe(homedir());
      expect(env.get('HOME') && clone.dir.startsWith(env.get('HOME') as string)).toBe(true);
      expect(env.get('GIT_AUTHOR_NAME')).toBe(AUTHOR.name);
      const allowed = new Set<string>([...GIT_ENV_PASSTHROUGH, 'HOME', 'PWD', 'SHLVL', 'OLDPWD', '_']);
      const extra = [...env.keys()].filter((k) => !allowed.has(k) && !k.startsWith('GIT_'));
      expect(extra).toEqual([]);
    } finally {
      await clone.dispose();
    }
  });

  it('builds the environment from an allowlist, with the token as a header for http(s) remotes only', () => {
    const parent = { ...HEAL_SECRETS, PATH: '/usr/bin', LANG: 'C.UTF-8', HTTPS_PROXY: 'http://proxy:3128' };
    const https = gitEnv(
      { author: AUTHOR, token: 'tok', url: 'https://github.com/acme/etl.git' },
      '/tmp/h',
      parent,
    );
    expect(https).toMatchObject({
      PATH: '/usr/bin',
      LANG: 'C.UTF-8',
      HTTPS_PROXY: 'http://proxy:3128',
      HOME: '/tmp/h',
    });
    expect(https.GIT_CONFIG_KEY_0).toBe('http.extraHeader');
    expect(https.GIT_CONFIG_VALUE_0).toBe(
      `Authorization: Basic ${Buffer.from('x-access-token:tok').toString('base64')}`,
    );
    for (const name of Object.keys(HEAL_SECRETS).filter((k) => !k.startsWith('GIT_CONFIG_')))
      expect(https[name], name).toBeUndefined();
    const local = gitEnv({ author: AUTHOR, token: 'tok', url: '/srv/git/etl.git' }, '/tmp/h', parent);
    expect(local.GIT_CONFIG_COUNT).toBeUndefined();
    expect(JSON.stringify(local)).not.toContain('fakeHealHostHelper');
  });
});

/** A dumb-HTTP git server over a bare repository that wants `Authorization: Basic x-access-token:<token>`. */
function dumbHttpServer(root: string, token: string) {
  const seen: Array<string | undefined> = [];
  const want = `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
  const server: Server = createServer((req: IncomingMessage, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization !== want) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
      return;
    }
    const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')));
    if (!path.startsWith(root) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    createReadStream(path).pipe(res);
  });
  return { server, seen, want };
}

describe('GITHUB_TOKEN over https still works', () => {
  let repo: SeededRepo;
  let http: ReturnType<typeof dumbHttpServer>;
  let base = '';
  beforeAll(async () => {
    repo = seedBareRepo({ 'models/orders.sql': 'select 1\n' });
    git(repo.url, 'update-server-info');
    http = dumbHttpServer(join(repo.url, '..'), 'ghp_FAKEhealHttpToken0123456789abcdefgh');
    await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => http?.server.close(resolve));
    repo?.dispose();
  });

  it('clones with the token sent as a header, and reads a file at the pinned commit', async () => {
    const token = 'ghp_FAKEhealHttpToken0123456789abcdefgh';
    const clone = await GitClone.open({ url: `${base}/remote.git`, token, author: AUTHOR });
    try {
      await clone.checkout(repo.sha);
      expect(await clone.read('models/orders.sql')).toBe('select 1\n');
      expect(http.seen.every((h) => h === http.want)).toBe(true);
      expect(git(clone.dir, 'config', '--list', '--local')).not.toContain(token);
    } finally {
      await clone.dispose();
    }
  });

  it('fails plainly, without prompting, when the token is missing', async () => {
    await expect(
      GitClone.open({ url: `${base}/remote.git`, author: AUTHOR, timeoutMs: 20_000 }),
    ).rejects.toThrow(GitError);
  });
});
