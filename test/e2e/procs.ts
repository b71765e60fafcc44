import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A free loopback port (Bolt's HTTPReceiver does not report PORT=0's real port reliably). */
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

export interface Proc {
  child: ChildProcess;
  /** stderr + stdout so far (pino logs go to stderr). */
  output(): string;
  exited: Promise<number | null>;
}

/** Spawns `node bin/heal.js <cmd>` like `npm start` / `npm run worker` do. */
export function spawnHeal(cmd: 'web' | 'worker', env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['bin/heal.js', cmd], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Polls until `check` returns a value (not undefined/false) or the time is up. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
): Promise<NonNullable<Exclude<T, false>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false && v !== null) return v as NonNullable<Exclude<T, false>>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for `GET /healthz` to answer 200. */
export function waitHealthy(base: string, proc: Proc, timeoutMs = 20_000): Promise<true> {
  return waitFor(
    `web healthz (output so far: ${proc.output().slice(-800)})`,
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`web exited early:\n${proc.output()}`);
      const res = await fetch(`${base}/healthz`).catch(() => null);
      return res?.status === 200 ? true : undefined;
    },
    timeoutMs,
  );
}

/** SIGTERM, then SIGKILL if still running after `graceMs`; resolves with the exit code. */
export async function stop(proc: Proc | undefined, graceMs = 5_000): Promise<number | null> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null)
    return proc?.child.exitCode ?? null;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return code;
}
