import { redact, truncate } from '../core/redact.ts';
import type { Evidence } from '../core/report.ts';
import type { Platform } from '../core/target.ts';

/** Evidence before numbering, with the adapter's stable key (e.g. `stage:3.0`, `log:load:2`). */
export type EvidenceDraft = Omit<Evidence, 'id'> & { key: string };

/** Longest excerpt one piece of evidence may carry (Slack and the LLM bundle trim further). */
export const MAX_EXCERPT = 2500;
const MAX_TITLE = 150;

/** One draft per collection gap, so a gap can be cited like any other evidence. */
export function gapDrafts(platform: Platform, gaps: string[]): EvidenceDraft[] {
  return gaps.map((g, i) => ({
    key: `gap:${i}`,
    source: `${platform}.gap`,
    title: 'Not collected',
    excerpt: g,
    ref: 'collection',
  }));
}

/**
 * Numbers drafts `E1`, `E2`, … in order, redacting and bounding titles and excerpts, and returns the
 * key → id index the rules cite through.
 */
export function numberEvidence(drafts: EvidenceDraft[]): {
  evidence: Evidence[];
  evidenceIndex: Record<string, string>;
} {
  const evidenceIndex: Record<string, string> = {};
  const evidence = drafts.map(({ key, ...d }, i) => {
    const id = `E${i + 1}`;
    evidenceIndex[key] = id;
    return {
      ...d,
      id,
      title: truncate(redact(d.title), MAX_TITLE),
      excerpt: truncate(redact(d.excerpt), MAX_EXCERPT),
    };
  });
  return { evidence, evidenceIndex };
}
