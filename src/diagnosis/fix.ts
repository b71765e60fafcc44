/**
 * The fix proposal, platform-neutral: find the mapped repository, open it at the pinned (or resolved) commit,
 * run the platform's deterministic template or (with ANTHROPIC_API_KEY) ask Claude for a diff, and validate
 * the result strictly: it applies to the base commit, touches only mapped paths, and stays small.
 */
import { airflowFixer } from '../adapters/airflow/fix.ts';
import { dbtFixer } from '../adapters/dbt/fix.ts';
import type { FileChange, PlatformFixer, TemplateFix, Workspace } from '../adapters/git/fixer.ts';
import { GitClone } from '../adapters/git/git.ts';
import {
  type CodeLocation,
  cloneUrl,
  isAllowedPath,
  loadRepos,
  type RepoEntry,
} from '../adapters/git/repos.ts';
import { createLlmClient } from '../adapters/llm/client.ts';
import { sparkFixer } from '../adapters/spark/fix.ts';
import type { AdapterContext, Collection } from '../adapters/types.ts';
import { errorMessage } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import type { Platform } from '../core/target.ts';
import { askClaudeForFix } from './fix-claude.ts';
import type { CollectionWithLinks } from './links.ts';

/** A validated change: the files it touches, its diff against the base commit, its commit message. */
export interface ProposedChange {
  files: string[];
  diff: string;
  message: string;
}

/** Everything the approve modal shows and the `fix` job needs; JSON-serialisable. */
export interface FixProposal {
  incidentId: string;
  /** The pinned failing run (report.pinned.ref): carried by every commit message. */
  runId: string;
  /** `owner/name` (pull requests) and the clone URL. */
  repo: string;
  url: string;
  defaultBranch: string;
  /** The commit the branch starts from. */
  baseSha: string;
  /** True when baseSha is the report's pinned code SHA; false when resolved from the default branch now. */
  codePinned: boolean;
  dataPinned: boolean;
  dataRef: string | null;
  source: 'template' | 'claude';
  template: string;
  title: string;
  explain: string;
  allowed: string[];
  fix: ProposedChange;
  prevention: (ProposedChange & { why: string; title: string }) | null;
}

export interface FixOutcome {
  /** What the report's `remediation.fix` carries. */
  fix: { files: string[]; diff: string } | null;
  prevention: { files: string[]; diff: string; why: string } | null;
  /** What to change, in words (always set; the whole answer when there is no fix). */
  words: string;
  proposal: FixProposal | null;
}

/** Limits on a proposed change. */
export const FIX_LIMITS = { files: 4, changedLines: 120 };

const FIXERS: Partial<Record<Platform, PlatformFixer>> = {
  spark: sparkFixer as PlatformFixer,
  airflow: airflowFixer as PlatformFixer,
  dbt: dbtFixer as PlatformFixer,
};

const SHA = /^[0-9a-f]{40}$/i;

const none = (words: string): FixOutcome => ({ fix: null, prevention: null, words, proposal: null });

/** The facts of the run the root cause belongs to (the target's own, or a linked run's). */
export function factsFor(
  report: Report,
  collection: Collection,
): { platform: Platform; facts: unknown } | null {
  const platform = report.rootCause?.category.split('.')[0] as Platform | undefined;
  if (!platform || !FIXERS[platform]) return null;
  if (report.target.platform === platform) return { platform, facts: collection.facts };
  const linked = (collection as CollectionWithLinks).linked?.find((l) => l.pin.target.platform === platform);
  return linked ? { platform, facts: linked.collection.facts } : null;
}

/** The code SHA of the failing run when the platform reported one (dbt Cloud's git_sha, a SHA codeRef). */
function pinnedSha(report: Report, facts: unknown): string | undefined {
  if (report.pinned.codeRef && SHA.test(report.pinned.codeRef)) return report.pinned.codeRef;
  const cloud = (facts as { cloud?: { gitSha?: string } } | null)?.cloud?.gitSha;
  return cloud && SHA.test(cloud) ? cloud : undefined;
}

/** Counts +/- lines of a unified diff (headers excluded). */
export function changedLines(diff: string): number {
  return diff.split('\n').filter((l) => /^[+-](?![+-]{2} )/.test(l)).length;
}

/** Validates a diff on the clone at `base`: mapped paths only, small, applies cleanly. Returns a problem or null. */
export async function validateDiff(clone: GitClone, diff: string, allowed: string[]): Promise<string | null> {
  if (!diff.trim()) return 'the diff is empty';
  let touched: string[];
  try {
    touched = await clone.touched(diff);
  } catch (err) {
    return `the diff is not a valid patch: ${errorMessage(err)}`;
  }
  const outside = touched.filter((p) => !isAllowedPath(p, allowed));
  if (outside.length) return `the diff touches unmapped paths: ${outside.join(', ')}`;
  if (touched.length > FIX_LIMITS.files)
    return `the diff touches ${touched.length} files (limit ${FIX_LIMITS.files})`;
  const n = changedLines(diff);
  if (n > FIX_LIMITS.changedLines) return `the diff changes ${n} lines (limit ${FIX_LIMITS.changedLines})`;
  try {
    await clone.apply(diff, { check: true });
  } catch (err) {
    return `the diff does not apply to the base commit: ${errorMessage(err)}`;
  }
  return null;
}

async function diffOf(clone: GitClone, changes: FileChange[]): Promise<string> {
  for (const c of changes) await clone.write(c.path, c.content);
  const diff = await clone.diff();
  await clone.reset();
  return diff;
}

interface Draft {
  source: FixProposal['source'];
  template: string;
  title: string;
  explain: string;
  fixDiff: string;
  prevention: { diff: string; why: string; title: string } | null;
}

async function templateDraft(clone: GitClone, fix: TemplateFix): Promise<Draft> {
  const p = fix.prevention;
  return {
    source: 'template',
    template: fix.template,
    title: fix.title,
    explain: fix.explain,
    fixDiff: await diffOf(clone, fix.changes),
    prevention: p ? { diff: await diffOf(clone, p.changes), why: p.why, title: p.title } : null,
  };
}

async function claudeDraft(
  clone: GitClone,
  input: { report: Report; location: CodeLocation },
  ctx: AdapterContext,
): Promise<Draft | string> {
  const client = createLlmClient(ctx.config);
  if (!client) return 'no ANTHROPIC_API_KEY';
  const res = await askClaudeForFix(client, ctx.config.HEAL_MODEL, { ...input, ws: clone });
  if (res.status !== 'ok') return `Claude could not propose a fix: ${res.message}`;
  const a = res.data;
  if (!a.applicable || !a.diff.trim()) return a.words || 'Claude found no small, safe change.';
  const prevention = a.preventionDiff.trim()
    ? { diff: a.preventionDiff, why: a.preventionWhy, title: 'Add the check that would have caught it' }
    : null;
  return {
    source: 'claude',
    template: 'claude',
    title: a.title,
    explain: a.explain,
    fixDiff: a.diff,
    prevention,
  };
}

/** Validates the fix, then the prevention on top of it (its own commit). */
async function validateDraft(clone: GitClone, d: Draft, allowed: string[]): Promise<string | null> {
  const bad = await validateDiff(clone, d.fixDiff, allowed);
  if (bad || !d.prevention) return bad;
  await clone.apply(d.fixDiff);
  const badTest = await validateDiff(clone, d.prevention.diff, allowed);
  await clone.reset();
  if (!badTest && changedLines(d.fixDiff) + changedLines(d.prevention.diff) > FIX_LIMITS.changedLines * 1.5)
    return 'the fix and its test together are too large';
  return badTest ? `prevention: ${badTest}` : null;
}

function message(subject: string, report: Report, body: string): string {
  const short = subject.length <= 72 ? subject : `${subject.slice(0, subject.lastIndexOf(' ', 70))}…`;
  return `${short}\n\n${body}\n\nHeal incident: ${report.id}\nRun: ${report.pinned.ref}\n`;
}

async function build(
  report: Report,
  repo: RepoEntry,
  url: string,
  base: { sha: string; pinned: boolean },
  d: Draft,
  clone: GitClone,
  allowed: string[],
): Promise<FixOutcome> {
  const fixFiles = await clone.touched(d.fixDiff);
  const prev = d.prevention ? { files: await clone.touched(d.prevention.diff), ...d.prevention } : null;
  const proposal: FixProposal = {
    incidentId: report.id,
    runId: report.pinned.ref,
    repo: repo.repo,
    url,
    defaultBranch: repo.defaultBranch,
    baseSha: base.sha,
    codePinned: base.pinned,
    dataPinned: report.pinned.dataRef !== null,
    dataRef: report.pinned.dataRef,
    source: d.source,
    template: d.template,
    title: d.title,
    explain: d.explain,
    allowed,
    fix: { files: fixFiles, diff: d.fixDiff, message: message(d.title, report, d.explain) },
    prevention: prev
      ? {
          files: prev.files,
          diff: prev.diff,
          why: prev.why,
          title: prev.title,
          message: message(prev.title, report, prev.why),
        }
      : null,
  };
  return {
    fix: { files: fixFiles, diff: d.fixDiff },
    prevention: prev ? { files: prev.files, diff: prev.diff, why: prev.why } : null,
    words: d.explain,
    proposal,
  };
}

export interface ProposeDeps {
  /** The repository mapping (default: HEAL_REPOS_FILE). */
  repos?: RepoEntry[];
}

/**
 * Proposes the fix for a diagnosed report: a validated diff (and prevention test) on the mapped repository,
 * or `words` saying what to change and why Heal offers no button. Never throws for upstream failures.
 */
export async function proposeFix(
  report: Report,
  collection: Collection,
  ctx: AdapterContext,
  deps: ProposeDeps = {},
): Promise<FixOutcome> {
  const said = report.remediation.summary;
  if (!report.rootCause || report.remediation.action === 'escalate') return none(said);
  const found = factsFor(report, collection);
  const fixer = found ? FIXERS[found.platform] : undefined;
  if (!found || !fixer) return none(`${said} Heal has no fix templates for this platform.`);
  const repos = deps.repos ? { ok: true as const, repos: deps.repos } : await loadRepos(ctx.config);
  if (!repos.ok) return none(`${said} ${repos.message}`);
  const located = fixer.locate(report, found.facts, repos.repos);
  if (!located.ok) return none(`${said} ${located.reason} No fix can be proposed without it.`);
  const { repo, allowed } = located.location;
  const url = cloneUrl(repo, ctx.config.GITHUB_API_URL);
  let clone: GitClone | undefined;
  try {
    clone = await GitClone.openWith(url, ctx.config);
    const pinned = pinnedSha(report, found.facts);
    const sha = pinned ? await clone.resolve(pinned) : await clone.resolve(repo.defaultBranch);
    if (!sha)
      return none(
        `${said} ${pinned ? `The pinned commit ${pinned}` : `The branch ${repo.defaultBranch}`} is not in ${repo.repo}.`,
      );
    await clone.checkout(sha);
    const outcome = await fixer.propose({
      report,
      facts: found.facts,
      location: located.location,
      ws: clone as Workspace,
    });
    const draft = outcome.ok
      ? await templateDraft(clone, outcome.fix)
      : await claudeDraft(clone, { report, location: located.location }, ctx);
    if (typeof draft === 'string')
      return none(
        `${said} ${outcome.ok ? '' : outcome.words} ${draft === 'no ANTHROPIC_API_KEY' ? '' : draft}`
          .replace(/\s+/g, ' ')
          .trim(),
      );
    const bad = await validateDraft(clone, draft, allowed);
    if (bad) return none(`${said} The proposed change was rejected: ${bad}.`);
    return await build(report, repo, url, { sha, pinned: pinned !== undefined }, draft, clone, allowed);
  } catch (err) {
    ctx.log.warn({ err: errorMessage(err), repo: repo.repo }, 'fix proposal failed');
    return none(`${said} The repository ${repo.repo} could not be read: ${errorMessage(err)}`);
  } finally {
    await clone?.dispose();
  }
}
