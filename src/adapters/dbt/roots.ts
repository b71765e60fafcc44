import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { checkRootLexical, isUnder, type RootCheck, rootRefusal } from '../../core/local-paths.ts';
import type { AdapterContext } from '../types.ts';

async function real(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    return undefined;
  }
}

/**
 * The full check (the worker, before reading): lexical, then with symlinks followed on both sides. A path
 * that does not exist under a root passes (reading it then says "no run_results.json"); one whose real
 * location leaves every root is refused with the same words as one outside.
 */
export async function checkRoot(raw: string, roots: readonly string[]): Promise<RootCheck> {
  const lexical = checkRootLexical(raw, roots);
  if (!lexical.ok) return lexical;
  const target = await real(lexical.path);
  if (target === undefined) return lexical;
  const realRoots = await Promise.all(roots.map(async (r) => (await real(resolve(r))) ?? resolve(r)));
  return realRoots.some((r) => isUnder(target, r))
    ? { ok: true, path: target }
    : { ok: false, reason: rootRefusal(roots) };
}

/** The roots that apply in this context, or `'any'` where a human typed the path on the command line. */
export function rootsOf(ctx: AdapterContext): readonly string[] | 'any' {
  return ctx.localRoots ?? ctx.config.HEAL_DBT_ROOTS;
}

/** `checkRoot` in a context: the CLI reads any path; everywhere else the roots apply. */
export async function allowedLocalPath(raw: string, ctx: AdapterContext): Promise<RootCheck> {
  const roots = rootsOf(ctx);
  return roots === 'any' ? { ok: true, path: resolve(raw) } : checkRoot(raw, roots);
}
