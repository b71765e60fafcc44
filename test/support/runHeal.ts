import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expandScenario, loadScenario, startFixtureServer } from './fixtureServer.ts';
import { lastJsonObject } from './score.ts';

export const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The exit code `heal investigate` gives a report: 0 root cause named, 3 nothing could be pinned (platform
 * unreachable, run not found), 4 abstained.
 */
export function exitCodeFor(report: { rootCause: unknown; pinned: { ref: string } }): number {
  if (report.rootCause) return 0;
  return report.pinned.ref === 'unpinned' ? 3 : 4;
}

/** Runs the `heal` CLI as a black box (a real child process), returning its exit code and output. */
export function runHeal(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'heal.js'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Serves one scenario directory from a fresh fixture server and runs `heal investigate <target> --json`
 * against it as a black box. `report` is the last JSON object on stdout (unparsed).
 */
export async function investigateScenario(dir: string, extraEnv: Record<string, string> = {}) {
  const scenario = loadScenario(dir);
  const server = await startFixtureServer(scenario.dir);
  try {
    const { target, env } = expandScenario(scenario, server.base);
    const run = await runHeal(['investigate', ...target, '--json'], { ...extraEnv, ...env });
    return { scenario, run, report: lastJsonObject(run.stdout), requests: server.requests };
  } finally {
    await server.close();
  }
}
