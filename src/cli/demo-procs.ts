/**
 * Processes `heal demo` starts: Heal's own `web` / `worker` (children running bin/heal.js, like
 * `npm start` / `npm run worker`) and, when no Redis answers, a throwaway `redis-server`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A problem the demo explains to the user and exits on (no stack trace). */
export class DemoError extends Error {}

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A child process with its combined output so far. */
export interface Child {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Spawns a process, keeping the last 64 KiB of its stdout + stderr. */
export function spawnChild(cmd: string, args: string[], env: Record<string, string>, cwd?: string): Child {
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const add = (d: Buffer) => {
    out = (out + d.toString()).slice(-65_536);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  return { child, output: () => out, exited };
}

/** Polls until `check` returns a value (not undefined/false/null), or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs: number,
): Promise<NonNullable<Exclude<T, false>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false && v !== null) return v as NonNullable<Exclude<T, false>>;
    if (Date.now() > deadline)
      throw new DemoError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function stopChild(c: Child | undefined, graceMs = 5_000): Promise<void> {
  if (!c || c.child.exitCode !== null || c.child.signalCode !== null || c.child.pid === undefined) return;
  c.child.kill('SIGTERM');
  const timer = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
  await c.exited;
  clearTimeout(timer);
}

/** Whether a Redis at `url` answers PING (within about two seconds). */
export async function redisAnswers(url: string): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** The Redis the demo uses, and how to let go of it. */
export interface DemoRedis {
  url: string;
  /** Where it came from, for the user. */
  origin: string;
  close(): Promise<void>;
}

const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

/**
 * REDIS_URL when set (it must answer); else a Redis on 127.0.0.1:6379 if one answers; else a throwaway
 * `redis-server` on a free port in a temp dir, when one is installed.
 */
export async function demoRedis(envUrl: string | undefined): Promise<DemoRedis> {
  const none = { close: async () => undefined };
  if (envUrl) {
    if (await redisAnswers(envUrl)) return { url: envUrl, origin: 'REDIS_URL', ...none };
    throw new DemoError(
      `REDIS_URL is set to ${envUrl}, but no Redis answers there. Start it, or unset REDIS_URL.`,
    );
  }
  if (await redisAnswers(DEFAULT_REDIS))
    return { url: DEFAULT_REDIS, origin: `the Redis at 127.0.0.1:6379`, ...none };
  return startThrowawayRedis();
}

/** A `redis-server` on a free loopback port with its data in a new temp dir, removed on close. */
export async function startThrowawayRedis(): Promise<DemoRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'heal-demo-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
  ];
  const proc = spawnChild('redis-server', args, { PATH: process.env.PATH ?? '' });
  const url = `redis://127.0.0.1:${port}`;
  const cleanup = async () => {
    await stopChild(proc, 2_000);
    rmSync(dir, { recursive: true, force: true });
  };
  await waitFor(
    'redis-server',
    async () => proc.child.exitCode !== null || proc.child.pid === undefined || (await redisAnswers(url)),
    10_000,
  ).catch(() => undefined);
  if (proc.child.exitCode !== null || !(await redisAnswers(url))) {
    await cleanup();
    const missing = /ENOENT/.test(proc.output()) || proc.child.pid === undefined;
    throw new DemoError(
      missing
        ? 'The demo needs Redis: none answers on 127.0.0.1:6379 and `redis-server` is not installed. ' +
            'Install it (e.g. `apt-get install redis-server` or `brew install redis`), or set REDIS_URL.'
        : `redis-server did not start on port ${port}:\n${proc.output().slice(-800)}`,
    );
  }
  return { url, origin: `a throwaway redis-server on port ${port} (${dir})`, close: cleanup };
}
