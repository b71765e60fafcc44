import { isAbsolute, resolve, sep } from 'node:path';

/**
 * Local dbt paths named from Slack, a webhook, an alert or another platform's log are untrusted: they are
 * read only under the operator's roots (HEAL_DBT_ROOTS). The refusal is the same whether or not the path
 * exists, so it is no existence oracle for the filesystem.
 */
export type RootCheck = { ok: true; path: string } | { ok: false; reason: string };

/** The one refusal text: names the rule and the variable, never the path's state on disk. */
export function rootRefusal(roots: readonly string[]): string {
  return roots.length
    ? 'Heal reads local dbt artifacts only under the directories in HEAL_DBT_ROOTS; this path is not one of them (or not allowed). Use an absolute path under a configured root, or `dbt cloud <run_id>`.'
    : 'Heal reads no local dbt artifacts from Slack, alerts or webhooks until HEAL_DBT_ROOTS lists the directories it may read. Use `dbt cloud <run_id>`, or `heal investigate dbt <dir>` on the command line.';
}

/** `path` is `root` or inside it (both resolved). */
export function isUnder(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

/**
 * Lexical check (no filesystem access, so the web process answers at once and reveals nothing): an absolute
 * path without `..` segments that lies under one of the roots.
 */
export function checkRootLexical(raw: string, roots: readonly string[]): RootCheck {
  const refuse = { ok: false as const, reason: rootRefusal(roots) };
  if (!roots.length || !raw || raw.includes('\0') || !isAbsolute(raw)) return refuse;
  if (raw.split(/[\\/]+/).includes('..')) return refuse;
  const path = resolve(raw);
  return roots.some((r) => isUnder(path, resolve(r))) ? { ok: true, path } : refuse;
}

/** The refusal for a target from Slack or a webhook, or undefined when it names no local path or an allowed one. */
export function untrustedPathRefusal(
  target: { platform: string; path?: string | undefined },
  roots: readonly string[],
): string | undefined {
  if (target.platform !== 'dbt' || target.path === undefined) return undefined;
  const check = checkRootLexical(target.path, roots);
  return check.ok ? undefined : check.reason;
}
