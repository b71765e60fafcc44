/**
 * Git operations on a temporary working clone, through the `git` CLI (execFile, never a shell). The token,
 * when set, goes in an HTTP header through GIT_CONFIG_* variables: never in argv, URLs or the clone's config.
 * A git child gets only the environment git needs ({@link gitEnv}), never Heal's own secrets.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { redact } from '../../core/redact.ts';

export class GitError extends Error {
  constructor(
    message: string,
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export interface GitAuthor {
  name: string;
  email: string;
}

/** Parses `Name <email>`. */
export function parseAuthor(text: string): GitAuthor {
  const m = /^\s*([^<>]+?)\s*<([^<>\s]+)>\s*$/.exec(text);
  if (!m?.[1] || !m[2]) throw new Error(`not a git author: ${text}`);
  return { name: m[1], email: m[2] };
}

export interface CloneOptions {
  url: string;
  /** Sent as an `Authorization` header to https remotes. */
  token?: string;
  author: GitAuthor;
  timeoutMs?: number;
}

function authEnv(token: string | undefined, url: string): Record<string, string> {
  if (!token || !/^https?:/.test(url)) return {};
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  };
}

/**
 * What git may need from Heal's environment: PATH, locale and time zone, proxies and CA bundles for https
 * remotes, and an ssh agent / ssh command for ssh remotes. Everything else (Slack, Anthropic, platform and
 * Redis credentials, GITHUB_TOKEN itself) stays out of git and of anything git runs (hooks, aliases, ssh).
 */
export const GIT_ENV_PASSTHROUGH = [
  'PATH',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'TZ',
  'TMPDIR',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'SSH_AUTH_SOCK',
  'GIT_SSH_COMMAND',
] as const;

/**
 * The whole environment of a git child: the {@link GIT_ENV_PASSTHROUGH} variables of `parent`, a throwaway
 * HOME with no system or global git config (so no credential helper, hook path or alias of the host applies),
 * no prompts, the commit author, and the token as an `http.extraHeader` for http(s) remotes only.
 */
export function gitEnv(
  opts: Pick<CloneOptions, 'author' | 'token' | 'url'>,
  home: string,
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of GIT_ENV_PASSTHROUGH) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    ...env,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: opts.author.name,
    GIT_AUTHOR_EMAIL: opts.author.email,
    GIT_COMMITTER_NAME: opts.author.name,
    GIT_COMMITTER_EMAIL: opts.author.email,
    ...authEnv(opts.token, opts.url),
  };
}

/** A temporary clone; `dispose()` removes it. */
export class GitClone {
  private constructor(
    readonly dir: string,
    private readonly opts: CloneOptions,
  ) {}

  /** Clones `url` (no checkout) into a fresh temp directory. */
  static async open(opts: CloneOptions): Promise<GitClone> {
    const root = await mkdtemp(join(tmpdir(), 'heal-git-'));
    const clone = new GitClone(join(root, 'repo'), opts);
    try {
      await clone.run(
        ['clone', '--quiet', '--no-checkout', '--filter=blob:none', '--', opts.url, clone.dir],
        root,
      );
    } catch (err) {
      await rm(root, { recursive: true, force: true });
      throw err;
    }
    return clone;
  }

  /** Clones with GITHUB_TOKEN and HEAL_GIT_AUTHOR from the config. */
  static openWith(
    url: string,
    config: { GITHUB_TOKEN?: string | undefined; HEAL_GIT_AUTHOR: string },
  ): Promise<GitClone> {
    const token = config.GITHUB_TOKEN;
    return GitClone.open({ url, ...(token ? { token } : {}), author: parseAuthor(config.HEAL_GIT_AUTHOR) });
  }

  /** Runs `git <args>` in the clone; rejects with a GitError carrying git's own (redacted) message. */
  run(args: string[], cwd = this.dir, input?: string): Promise<string> {
    const env = gitEnv(this.opts, dirname(this.dir));
    return new Promise((resolve, reject) => {
      const child = execFile(
        'git',
        args,
        { cwd, env, timeout: this.opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const detail = redact(String(stderr || err.message).trim()).slice(0, 2000);
          reject(new GitError(`git ${args[0]} failed: ${detail}`, args, detail));
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  }

  /** The commit a ref (branch, tag, SHA) names on the remote clone, as a full SHA; null if unknown. */
  async resolve(ref: string): Promise<string | null> {
    for (const candidate of [`${ref}^{commit}`, `origin/${ref}^{commit}`]) {
      try {
        return (await this.run(['rev-parse', '--verify', '--quiet', candidate])).trim();
      } catch {}
    }
    return null;
  }

  /** Checks out `sha` detached, with a clean worktree. */
  async checkout(sha: string): Promise<void> {
    await this.run(['checkout', '--quiet', '--force', '--detach', sha]);
    await this.run(['clean', '-fdq']);
  }

  /** Reads a file at the checked-out commit; null when it does not exist. */
  async read(path: string): Promise<string | null> {
    try {
      return await readFile(this.abs(path), 'utf8');
    } catch {
      return null;
    }
  }

  /** Writes a file into the worktree (creating directories). */
  async write(path: string, content: string): Promise<void> {
    const abs = this.abs(path);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }

  /** Tracked files under a repo-relative prefix at the checked-out commit. */
  async list(prefix = ''): Promise<string[]> {
    const out = await this.run(['ls-files', '-z', '--', prefix || '.']);
    return out.split('\0').filter(Boolean);
  }

  /** The unified diff of the worktree against HEAD, new files included; the worktree is left as is. */
  async diff(): Promise<string> {
    await this.run(['add', '--intent-to-add', '--all']);
    return this.run(['diff', '--no-color', '--no-ext-diff', 'HEAD']);
  }

  /** Discards every change in the worktree and index. */
  async reset(): Promise<void> {
    await this.run(['reset', '--quiet', '--hard']);
    await this.run(['clean', '-fdq']);
  }

  /** Applies a unified diff to the worktree; `check` only tests that it applies. */
  async apply(diff: string, opts: { check?: boolean } = {}): Promise<void> {
    await this.run(['apply', '--whitespace=nowarn', ...(opts.check ? ['--check'] : []), '-'], this.dir, diff);
  }

  /** Paths a diff touches (old and new names), from git's own parser. */
  async touched(diff: string): Promise<string[]> {
    const out = await this.run(['apply', '--numstat', '-z', '-'], this.dir, diff);
    return [
      ...new Set(
        out
          .split('\0')
          .flatMap((rec) => (rec.includes('\t') ? rec.split('\t').slice(2) : [rec]))
          .filter(Boolean),
      ),
    ];
  }

  /** Stages everything and commits; returns the new SHA. */
  async commitAll(message: string): Promise<string> {
    await this.run(['add', '--all']);
    await this.run(['commit', '--quiet', '--no-verify', '-F', '-'], this.dir, message);
    return (await this.run(['rev-parse', 'HEAD'])).trim();
  }

  /** The SHA a remote branch points at, or null when it does not exist. */
  async remoteBranch(branch: string): Promise<string | null> {
    const out = await this.run(['ls-remote', '--heads', 'origin', `refs/heads/${branch}`]);
    return out.split(/\s+/)[0] || null;
  }

  /** Pushes HEAD to a new branch (never forced, never the default branch: the caller checks). */
  async pushNewBranch(branch: string): Promise<void> {
    await this.run(['push', '--quiet', '--porcelain', 'origin', `HEAD:refs/heads/${branch}`]);
  }

  async dispose(): Promise<void> {
    await rm(dirname(this.dir), { recursive: true, force: true });
  }

  private abs(path: string): string {
    const p = posix.normalize(path);
    if (p.startsWith('..') || p.startsWith('/')) throw new Error(`path outside the repository: ${path}`);
    return join(this.dir, p);
  }
}
