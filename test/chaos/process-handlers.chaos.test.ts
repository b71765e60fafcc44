/**
 * Issue 13 item 6, process level: an unhandled rejection is logged and `heal web` / `heal worker` keep
 * serving; an uncaught exception is logged (fatal) and the process exits 1 for its supervisor to restart.
 * The faults are injected with `node --import` (a module that rejects on SIGUSR2 and throws on SIGHUP),
 * so the processes are the real ones, started as `npm start` / `npm run worker` start them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../e2e/procs.ts';
import { type ChaosStack, startChaosStack } from './stack.ts';

const FAULTS = `
process.on('SIGUSR2', () => { Promise.reject(new Error('injected rejection')); });
process.on('SIGHUP', () => { throw new Error('injected exception'); });
`;

describe('process-level handlers of heal web and heal worker', () => {
  let stack: ChaosStack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'heal-faults-'));
    const file = join(dir, 'faults.mjs');
    writeFileSync(file, FAULTS);
    stack = await startChaosStack({ workers: 1, env: { NODE_OPTIONS: `--import=${file}` } });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs an unhandled rejection and keeps serving (web and worker)', async () => {
    const worker = stack.workers[0];
    if (!worker) throw new Error('no worker');
    for (const p of [stack.web, worker]) p.child.kill('SIGUSR2');
    await waitFor('both rejections logged', () =>
      [stack.web, worker].every((p) => p.output().includes('unhandled promise rejection')),
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(stack.web.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
    expect(stack.web.output()).toContain('injected rejection');
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
    // Still doing its job: an investigation goes through web and the worker.
    const id = await stack.heal('app-20261120021500-8300', 'C0FAULTS');
    expect(id).toMatch(/^inc_/);
    await stack.waitPublished(id, 60_000);
  }, 90_000);

  it('logs an uncaught exception as fatal, shuts down and exits 1', async () => {
    stack.web.child.kill('SIGHUP');
    const code = await Promise.race([
      stack.web.exited,
      new Promise<string>((r) => setTimeout(() => r('still running'), 15_000)),
    ]);
    expect(code).toBe(1);
    expect(stack.web.output()).toMatch(/"level":60.*uncaught exception: shutting down/);
    expect(stack.web.output()).toContain('injected exception');
  }, 30_000);
});
