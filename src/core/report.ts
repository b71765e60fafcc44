import { z } from 'zod';
import { Target } from './target.ts';
import { Category, CulpritKind } from './taxonomy.ts';

/** One piece of evidence, cited by id (`E1`, `E2`, …) everywhere else in the report. */
export const Evidence = z.object({
  id: z.string().regex(/^E\d+$/),
  /** `<platform>.<kind>`, e.g. `spark.stage`, `spark.executor_log`, `spark.gap`. */
  source: z.string(),
  title: z.string(),
  /** Redacted, bounded text: a log excerpt, a metric summary, an error message. */
  excerpt: z.string(),
  /** Where it came from: the API path or URL, so a human can open it. */
  ref: z.string(),
});
export type Evidence = z.infer<typeof Evidence>;

export const HypothesisStatus = z.enum(['confirmed', 'dismissed', 'inconclusive']);
export type HypothesisStatus = z.infer<typeof HypothesisStatus>;

export const Hypothesis = z.object({
  category: Category,
  title: z.string(),
  likelihood: z.number().min(0).max(100),
  status: HypothesisStatus,
  evidenceFor: z.array(z.string()),
  evidenceAgainst: z.array(z.string()),
  reasoning: z.string(),
});
export type Hypothesis = z.infer<typeof Hypothesis>;

export const Culprit = z.object({ kind: CulpritKind, id: z.string().min(1) });
export type Culprit = z.infer<typeof Culprit>;

export const RootCause = z.object({
  category: Category,
  confidence: z.number().min(0).max(100),
  culprit: Culprit,
  summary: z.string(),
  evidence: z.array(z.string()),
});
export type RootCause = z.infer<typeof RootCause>;

export const Remediation = z.object({
  action: z.enum(['rerun', 'fix', 'escalate']),
  summary: z.string(),
  fix: z.object({ files: z.array(z.string()), diff: z.string() }).nullable(),
  prevention: z.string(),
  monitoring: z.string(),
});
export type Remediation = z.infer<typeof Remediation>;

export const Pinned = z.object({
  /** Immutable id of the failing state: app id + attempt, dag_run_id + tries, dbt invocation_id. */
  ref: z.string(),
  codeRef: z.string().nullable(),
  dataRef: z.string().nullable(),
  deterministic: z.boolean(),
});
export type Pinned = z.infer<typeof Pinned>;

/** The investigation report (DESIGN.md §3): what `heal investigate --json` prints and Slack renders. */
export const Report = z.object({
  id: z.string().regex(/^inc_[a-z0-9]+$/),
  target: Target,
  pinned: Pinned,
  evidence: z.array(Evidence),
  hypotheses: z.array(Hypothesis),
  rootCause: RootCause.nullable(),
  remediation: Remediation,
  engine: z.enum(['rules', 'llm', 'rules+llm']),
  /** Not in the required set: what could not be collected, stated plainly. */
  gaps: z.array(z.string()).default([]),
});
export type Report = z.infer<typeof Report>;

/** Ids cited anywhere in the report that do not exist in `evidence` (must be empty). */
export function danglingCitations(report: Pick<Report, 'evidence' | 'hypotheses' | 'rootCause'>): string[] {
  const known = new Set(report.evidence.map((e) => e.id));
  const cited = [
    ...report.hypotheses.flatMap((h) => [...h.evidenceFor, ...h.evidenceAgainst]),
    ...(report.rootCause?.evidence ?? []),
  ];
  return [...new Set(cited.filter((id) => !known.has(id)))];
}
