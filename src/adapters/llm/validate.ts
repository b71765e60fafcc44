/**
 * Evidence discipline for Claude's answer: every claim must use a taxonomy id and cite only evidence ids it
 * was shown. A claim citing an id that does not exist is rejected whole (the model invented evidence), as is a
 * claim that rests only on evidence containing instructions to an AI, unless the rules confirm it on their own.
 */

import { truncate } from '../../core/redact.ts';
import type { Culprit, Hypothesis, Report, RootCause } from '../../core/report.ts';
import { Category, CulpritKind, HYPOTHESIS_ONLY } from '../../core/taxonomy.ts';
import type { EvidenceBundle } from './bundle.ts';
import { unmaskAnswer } from './mask.ts';
import type { LlmAnswer, LlmHypothesis, LlmRootCause } from './schema.ts';

/** What survives validation, with placeholders mapped back and text bounded. */
export interface ValidatedAnswer {
  /** Claude's root cause, if it named one and it passed every check. */
  rootCause: RootCause | null;
  /** Claude said the evidence does not decide (rootCause null on the wire). */
  abstained: boolean;
  hypotheses: Hypothesis[];
  agreesWithRules: boolean;
  disagreement: string | null;
  missingEvidence: string[];
  /** One sentence per rejected claim: what and why. */
  rejected: string[];
}

const MAX_SUMMARY = 600;
const MAX_REASONING = 1_000;

function clamp(n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.min(100, Math.round(n))) : 0;
}

interface Judge {
  shown: Set<string>;
  flagged: Set<string>;
  rulesConfirmed: Set<string>;
  text: (s: string, max: number) => string;
}

/** Why a claim (category + citations) is not acceptable, or null when it is. */
function citationProblem(j: Judge, category: string, cited: string[], supporting: string[]): string | null {
  if (!Category.safeParse(category).success) return `uses "${truncate(category, 60)}", not a taxonomy id`;
  const invented = [...new Set(cited.filter((id) => !j.shown.has(id)))];
  if (invented.length) return `cites ${invented.slice(0, 5).join(', ')}, which is not in the evidence`;
  if (supporting.length === 0) return 'cites no evidence for it';
  if (supporting.every((id) => j.flagged.has(id)) && !j.rulesConfirmed.has(category))
    return `rests only on evidence that contains instructions to an AI (${supporting.join(', ')})`;
  return null;
}

function checkRootCause(j: Judge, rc: LlmRootCause): { rootCause: RootCause } | { problem: string } {
  const problem = citationProblem(j, rc.category, rc.evidence, rc.evidence);
  if (problem) return { problem };
  const category = Category.parse(rc.category);
  if (HYPOTHESIS_ONLY.has(category) || category === 'unknown')
    return { problem: `${category} cannot be a root cause` };
  const kind = CulpritKind.safeParse(rc.culprit.kind);
  if (!kind.success)
    return { problem: `culprit kind "${truncate(rc.culprit.kind, 40)}" is not a culprit kind` };
  const id = j.text(rc.culprit.id, 200).trim();
  if (!id || /\[REDACTED|\[unknown placeholder\]/.test(id)) return { problem: 'names no usable culprit' };
  const culprit: Culprit = { kind: kind.data, id };
  return {
    rootCause: {
      category,
      confidence: clamp(rc.confidence),
      culprit,
      summary: j.text(rc.summary, MAX_SUMMARY),
      evidence: [...new Set(rc.evidence)],
    },
  };
}

function checkHypothesis(j: Judge, h: LlmHypothesis): { hypothesis: Hypothesis } | { problem: string } {
  const cited = [...h.evidenceFor, ...h.evidenceAgainst];
  const supporting = h.status === 'dismissed' ? cited : h.evidenceFor;
  const problem = citationProblem(j, h.category, cited, supporting);
  if (problem) return { problem };
  return {
    hypothesis: {
      category: Category.parse(h.category),
      title: j.text(h.title, 200),
      likelihood: clamp(h.likelihood),
      status: h.status,
      evidenceFor: [...new Set(h.evidenceFor)],
      evidenceAgainst: [...new Set(h.evidenceAgainst)],
      reasoning: j.text(h.reasoning, MAX_REASONING),
    },
  };
}

/** Applies the rules of evidence to Claude's answer for this bundle and the rules' report. */
export function validateAnswer(answer: LlmAnswer, bundle: EvidenceBundle, rules: Report): ValidatedAnswer {
  const j: Judge = {
    shown: new Set(bundle.shown),
    flagged: new Set(bundle.flagged),
    rulesConfirmed: new Set(rules.hypotheses.filter((h) => h.status === 'confirmed').map((h) => h.category)),
    text: (s, max) => truncate(unmaskAnswer(s, bundle.vault), max),
  };
  const rejected: string[] = [];
  let rootCause: RootCause | null = null;
  if (answer.rootCause) {
    const r = checkRootCause(j, answer.rootCause);
    if ('problem' in r)
      rejected.push(`root cause ${truncate(answer.rootCause.category, 60)} rejected: it ${r.problem}`);
    else rootCause = r.rootCause;
  }
  const hypotheses: Hypothesis[] = [];
  for (const h of answer.hypotheses) {
    const r = checkHypothesis(j, h);
    if ('problem' in r) rejected.push(`hypothesis ${truncate(h.category, 60)} rejected: it ${r.problem}`);
    else hypotheses.push(r.hypothesis);
  }
  return {
    rootCause,
    abstained: answer.rootCause === null,
    hypotheses,
    agreesWithRules: answer.agreesWithRules,
    disagreement: answer.disagreement ? j.text(answer.disagreement, MAX_REASONING) : null,
    missingEvidence: answer.missingEvidence.slice(0, 5).map((m) => j.text(m, 200)),
    rejected,
  };
}
