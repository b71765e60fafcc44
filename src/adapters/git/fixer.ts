/**
 * The contract between the platform-neutral fix layer (src/diagnosis/fix.ts) and each platform's fix
 * templates (src/adapters/<platform>/fix.ts): locate the code, then propose a mechanical change.
 */
import type { Report } from '../../core/report.ts';
import type { CodeLocation, Located, RepoEntry } from './repos.ts';

/** Read access to the repository at the base commit. */
export interface Workspace {
  read(path: string): Promise<string | null>;
  /** Tracked files under a repo-relative prefix. */
  list(prefix?: string): Promise<string[]>;
}

/** A whole-file change (new content; created when the file does not exist). */
export interface FileChange {
  path: string;
  content: string;
}

/** The check that would have caught the failure, committed separately from the fix. */
export interface PreventionChange {
  title: string;
  changes: FileChange[];
  /** Why it would have failed on the pinned failing state, in one or two sentences. */
  why: string;
}

export interface TemplateFix {
  /** Template id, e.g. `spark.aqe_skew_join`. */
  template: string;
  /** One line: the commit subject and pull request title. */
  title: string;
  /** What changes and why, citing the evidence that sized it. */
  explain: string;
  changes: FileChange[];
  prevention: PreventionChange | null;
}

/** A template that applies, or the change in words when none does (and why). */
export type TemplateOutcome = { ok: true; fix: TemplateFix } | { ok: false; words: string };

export interface ProposeInput<F> {
  report: Report;
  facts: F;
  location: CodeLocation;
  ws: Workspace;
}

/** One platform's fix knowledge. `facts` is that platform's Collection facts (its snapshot). */
export interface PlatformFixer<F = unknown> {
  /** Where the failing code lives in the mapped repositories; a reason when nothing maps. */
  locate(report: Report, facts: F, repos: RepoEntry[]): Located;
  propose(input: ProposeInput<F>): Promise<TemplateOutcome>;
}

/** Collapses a template's changes into the list of touched paths (deduplicated, in order). */
export function changedPaths(fix: Pick<TemplateFix, 'changes' | 'prevention'>): string[] {
  return [...new Set([...fix.changes, ...(fix.prevention?.changes ?? [])].map((c) => c.path))];
}

/** Rounds up to a multiple of `step`. */
export const roundUp = (n: number, step: number) => Math.ceil(n / step) * step;
