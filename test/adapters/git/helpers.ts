import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Collection } from '../../../src/adapters/types.ts';
import { expandScenario, loadScenario, startFixtureServer } from '../../../src/cli/fixture-server.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';
import type { Report } from '../../../src/core/report.ts';
import { parseTarget } from '../../../src/core/target.ts';
import { collectStep, diagnoseStep, pinStep } from '../../../src/diagnosis/investigate.ts';

export const ROOT = join(import.meta.dirname, '..', '..', '..');

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Dev',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_COMMITTER_NAME: 'Dev',
  GIT_COMMITTER_EMAIL: 'dev@example.com',
};

export const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();

export interface SeededRepo {
  /** Path of the bare repository (the "remote"). */
  url: string;
  /** The commit `main` points at. */
  sha: string;
  dispose(): void;
}

/** A bare repository with one commit of `files` on `main` (two commits when `history` is set). */
export function seedBareRepo(files: Record<string, string>): SeededRepo {
  const root = mkdtempSync(join(tmpdir(), 'heal-seed-'));
  const bare = join(root, 'remote.git');
  const work = join(root, 'work');
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  git(root, 'init', '--quiet', '--initial-branch=main', work);
  writeFileSync(join(work, 'README.md'), '# pipelines\n');
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'init');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), content);
  }
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'pipelines');
  git(work, 'push', '--quiet', bare, 'main');
  return {
    url: bare,
    sha: git(work, 'rev-parse', 'HEAD'),
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Investigates a public scenario against its fixture server (rules only), returning report and collection. */
export async function scenarioReport(
  dir: string,
  env: Record<string, string> = {},
): Promise<{ report: Report; collection: Collection }> {
  const s = loadScenario(dir);
  const server = await startFixtureServer(s.dir);
  try {
    const { target, env: sEnv } = expandScenario(s, server.base);
    const ctx = {
      config: loadConfig({ ...sEnv, ...env }),
      log: createLogger('silent'),
      localRoots: 'any' as const,
    };
    const parsed = parseTarget(target.join(' '));
    if (!parsed.ok) throw new Error(parsed.error);
    const pin = await pinStep(parsed.target, ctx);
    if (pin.status !== 'ok') throw new Error(pin.message);
    const collection = await collectStep(pin.data, ctx);
    return { report: diagnoseStep('inc_0123abcd', pin.data, collection), collection };
  } finally {
    await server.close();
  }
}

export const scenarioDir = (name: string) => join(ROOT, 'test', 'scenarios', name);

export const testCtx = (env: Record<string, string> = {}) => ({
  config: loadConfig({ HEAL_GIT_AUTHOR: 'Heal Test <heal@example.com>', ...env }),
  log: createLogger('silent'),
});
