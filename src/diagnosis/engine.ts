import type { Collection, Finding, PinResult, RuleOutcome } from '../adapters/types.ts';
import type { Hypothesis, Report, RootCause } from '../core/report.ts';
import { HYPOTHESIS_ONLY } from '../core/taxonomy.ts';
import { remediationFor } from './remediation.ts';

export interface EngineInput {
  incidentId: string;
  pin: PinResult;
  collection: Collection;
  outcome: RuleOutcome;
}

/** Confidence ceiling for a root cause that no decisive evidence (an explicit signature) supports. */
export const UNDECIDED_CAP = 60;
/** Below this, Heal abstains rather than name a cause. */
export const MIN_CONFIDENCE = 40;
/** Two confirmed causes closer than this are a tie: abstain. */
export const TIE_MARGIN = 5;
/** Categories whose failures a plain rerun does not reproduce. */
const TRANSIENT = new Set(['spark.shuffle_fetch_failure', 'airflow.connection_error', 'airflow.zombie_task']);

const STATUS_ORDER = { confirmed: 0, inconclusive: 1, dismissed: 2 } as const;

function clamp(n: number): number {
  return Math.max(0, Math.min(100, Math.round(n)));
}

/** Drops citations of evidence that does not exist, so the report never cites a dangling id. */
function cleanFinding(f: Finding, known: Set<string>): Finding {
  const keep = (ids: string[]) => [...new Set(ids.filter((id) => known.has(id)))];
  return {
    ...f,
    likelihood: clamp(f.likelihood),
    evidenceFor: keep(f.evidenceFor),
    evidenceAgainst: keep(f.evidenceAgainst),
  };
}

function rank(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || b.likelihood - a.likelihood,
  );
}

function toHypothesis(f: Finding): Hypothesis {
  return {
    category: f.category,
    title: f.title,
    likelihood: f.likelihood,
    status: f.status,
    evidenceFor: f.evidenceFor,
    evidenceAgainst: f.evidenceAgainst,
    reasoning: f.reasoning,
  };
}

/** The root cause, or why Heal abstains. */
export function chooseRootCause(ranked: Finding[]): { rootCause: RootCause | null; note?: string } {
  const eligible = ranked.filter(
    (f) =>
      f.status === 'confirmed' && f.culprit && f.evidenceFor.length > 0 && !HYPOTHESIS_ONLY.has(f.category),
  );
  const [top, second] = eligible;
  if (!top?.culprit) return { rootCause: null, note: 'No hypothesis is confirmed by the evidence.' };
  if (second && second.category !== top.category && top.likelihood - second.likelihood < TIE_MARGIN)
    return {
      rootCause: null,
      note: `${top.category} and ${second.category} fit the evidence equally well; evidence that separates them would decide.`,
    };
  const capped = !top.decisive && top.likelihood > UNDECIDED_CAP;
  const confidence = capped ? UNDECIDED_CAP : top.likelihood;
  if (confidence < MIN_CONFIDENCE)
    return {
      rootCause: null,
      note: `The best hypothesis (${top.category}) is too weak (${confidence}%) to name.`,
    };
  const capNote = capped
    ? ` Confidence capped at ${UNDECIDED_CAP}%: no decisive evidence (an explicit error signature) supports it.`
    : '';
  return {
    rootCause: {
      category: top.category,
      confidence,
      culprit: top.culprit,
      summary: `${top.summary}${capNote}`,
      evidence: top.evidenceFor,
    },
  };
}

/** Ranks findings, enforces citations and confidence discipline, and builds the report (DESIGN.md §3). */
export function buildReport({ incidentId, pin, collection, outcome }: EngineInput): Report {
  const known = new Set(collection.evidence.map((e) => e.id));
  const ranked = rank(outcome.findings.map((f) => cleanFinding(f, known)));
  const chosen = outcome.failed ? chooseRootCause(ranked) : { rootCause: null, note: undefined };
  const notes = [...outcome.notes, ...(chosen.note ? [chosen.note] : [])];
  const top = chosen.rootCause ? ranked.find((f) => f.category === chosen.rootCause?.category) : undefined;
  const deterministic = top ? (top.deterministic ?? !TRANSIENT.has(top.category)) : pin.pinned.deterministic;
  return {
    id: incidentId,
    target: pin.target,
    pinned: { ...pin.pinned, deterministic },
    evidence: collection.evidence,
    hypotheses: ranked.map(toHypothesis),
    rootCause: chosen.rootCause,
    remediation: remediationFor(chosen.rootCause, notes, outcome.failed),
    engine: 'rules',
    gaps: collection.gaps,
  };
}

/**
 * The report when the failing state could not even be pinned (platform unreachable, run not found):
 * no root cause, the reason stated as a gap and as evidence, never a crash.
 */
export function unpinnedReport(incidentId: string, target: Report['target'], message: string): Report {
  const evidence = [
    {
      id: 'E1',
      source: `${target.platform}.gap`,
      title: 'Could not pin the failing run',
      excerpt: message,
      ref: target.platform,
    },
  ];
  return {
    id: incidentId,
    target,
    pinned: { ref: 'unpinned', codeRef: null, dataRef: null, deterministic: false },
    evidence,
    hypotheses: [],
    rootCause: null,
    remediation: remediationFor(null, [`The run could not be pinned: ${message}`], true),
    engine: 'rules',
    gaps: [message],
  };
}
