/**
 * Claude as a second opinion on the rules engine's report. The rules stay in charge: Claude's answer is
 * validated against the evidence (see adapters/llm/validate.ts), agreement raises confidence a little, a
 * disagreement is shown next to the rules' answer, and Claude's root cause is adopted only when the rules
 * abstained and the answer is well cited. Any failure leaves the rules' report unchanged plus a stated gap.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { buildBundle, type EvidenceBundle } from '../adapters/llm/bundle.ts';
import { askClaude, createLlmClient } from '../adapters/llm/client.ts';
import { type ValidatedAnswer, validateAnswer } from '../adapters/llm/validate.ts';
import type { AdapterContext } from '../adapters/types.ts';
import type { Hypothesis, Report, RootCause } from '../core/report.ts';
import { CATEGORY_INFO } from '../core/taxonomy.ts';
import { MIN_CONFIDENCE, UNDECIDED_CAP } from './engine.ts';
import { remediationFor } from './remediation.ts';

/** How much agreement raises the rules' confidence. */
export const AGREEMENT_BONUS = 5;
/** Agreement never raises confidence above this (two opinions are not proof). */
export const AGREEMENT_CEILING = 95;

export interface SecondOpinionOptions {
  /** Progress lines for the Slack thread ("Asking Claude…", "Claude agrees…"). Errors in it are ignored. */
  onProgress?: (text: string) => void;
  /** Token budget of the evidence bundle (default 12k, estimated at ~4 characters per token). */
  budgetTokens?: number;
  timeoutMs?: number;
  maxRetries?: number;
  /** An SDK client to use instead of one built from the config. */
  client?: Anthropic;
}

/**
 * Asks Claude for a second opinion on a rules report and merges it (engine `rules+llm`). Without an
 * `ANTHROPIC_API_KEY` it returns the report unchanged; on any LLM failure it returns the report with a gap
 * "Claude second opinion unavailable: …". Never throws for upstream failure.
 */
export async function secondOpinion(
  report: Report,
  ctx: AdapterContext,
  opts: SecondOpinionOptions = {},
): Promise<Report> {
  // An unpinned report has nothing to review but the reason it could not be pinned.
  if (report.pinned.ref === 'unpinned') return report;
  const client = opts.client ?? createLlmClient(ctx.config, opts);
  if (!client) return report;
  const progress = (text: string) => {
    try {
      opts.onProgress?.(text);
    } catch (err) {
      ctx.log.warn({ err }, 'progress callback failed');
    }
  };
  const model = ctx.config.HEAL_MODEL;
  const bundle = buildBundle(
    report,
    opts.budgetTokens === undefined ? {} : { budgetTokens: opts.budgetTokens },
  );
  progress(
    `Asking Claude (${model}) for a second opinion on ${bundle.shown.length} of ${report.evidence.length} evidence items (~${bundle.estimatedTokens} tokens)…`,
  );
  const reply = await askClaude(client, bundle.text, {
    model,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onStart: () => progress('Claude is reviewing the evidence…'),
  });
  if (reply.status !== 'ok') {
    const gap = `Claude second opinion unavailable: ${reply.message}`;
    ctx.log.warn({ model, message: reply.message }, 'second opinion unavailable');
    progress(gap);
    return { ...report, gaps: [...report.gaps, gap] };
  }
  ctx.log.info(
    { model, requestId: reply.data.requestId, usage: reply.data.usage },
    'second opinion received',
  );
  const merged = mergeSecondOpinion(report, validateAnswer(reply.data.answer, bundle, report), bundle);
  progress(verdictLine(report, merged));
  return merged;
}

function verdictLine(before: Report, after: Report): string {
  if (after.engine !== 'rules+llm')
    return 'Claude’s answer was rejected by the evidence rules; the rules’ report stands.';
  const b = before.rootCause?.category ?? null;
  const a = after.rootCause?.category ?? null;
  if (b === null && a !== null) return `Claude names ${a} where the rules abstained (capped confidence).`;
  return after.remediation.summary.includes('disagrees')
    ? 'Claude disagrees with the rules; the report shows both.'
    : 'Claude agrees with the rules.';
}

function ids(list: string[]): string {
  return list.length ? list.join(', ') : 'no evidence';
}

function llmHypothesis(rc: RootCause, v: ValidatedAnswer): Hypothesis {
  return {
    category: rc.category,
    title: `Claude's second opinion: ${CATEGORY_INFO[rc.category].title}`,
    likelihood: Math.min(rc.confidence, UNDECIDED_CAP),
    status: 'inconclusive',
    evidenceFor: rc.evidence,
    evidenceAgainst: [],
    reasoning: [`Culprit: ${rc.culprit.kind} ${rc.culprit.id}.`, rc.summary, v.disagreement ?? '']
      .filter(Boolean)
      .join(' '),
  };
}

/** Claude's own hypotheses for categories the rules did not consider; it cannot confirm one alone. */
function extraHypotheses(report: Report, v: ValidatedAnswer, skip: Set<string>): Hypothesis[] {
  const seen = new Set([...report.hypotheses.map((h) => h.category), ...skip]);
  return v.hypotheses
    .filter((h) => !seen.has(h.category))
    .map((h) => ({
      ...h,
      title: `Claude: ${h.title}`,
      likelihood: Math.min(h.likelihood, UNDECIDED_CAP),
      status: h.status === 'confirmed' ? 'inconclusive' : h.status,
    }));
}

function withNote(report: Report, note: string): Report['remediation'] {
  return { ...report.remediation, summary: `${report.remediation.summary}\n\n${note}`.trim() };
}

function agree(report: Report, rules: RootCause, llm: RootCause): Report {
  const ceiling = rules.confidence > UNDECIDED_CAP ? AGREEMENT_CEILING : UNDECIDED_CAP;
  const confidence = Math.max(rules.confidence, Math.min(ceiling, rules.confidence + AGREEMENT_BONUS));
  const culpritNote =
    llm.culprit.id === rules.culprit.id && llm.culprit.kind === rules.culprit.kind
      ? ''
      : ` It names a different culprit (${llm.culprit.kind} ${llm.culprit.id}); the rules' culprit is kept.`;
  return {
    ...report,
    rootCause: {
      ...rules,
      confidence,
      evidence: [...new Set([...rules.evidence, ...llm.evidence])],
      summary: `${rules.summary} Claude's second opinion agrees (citing ${ids(llm.evidence)}).${culpritNote}`,
    },
  };
}

function disagree(report: Report, rules: RootCause, v: ValidatedAnswer): Report {
  const llm = v.rootCause;
  const note = llm
    ? `Claude's second opinion disagrees: it points to ${llm.category} (${llm.culprit.kind} ${llm.culprit.id}, confidence ${llm.confidence}%, citing ${ids(llm.evidence)}). Heal keeps the rules' answer (${rules.category}); compare ${ids([...new Set([...rules.evidence, ...llm.evidence])])} to decide.`
    : `Claude's second opinion disagrees: it finds that the evidence does not decide${v.disagreement ? ` (${v.disagreement})` : ''}. Heal keeps the rules' answer (${rules.category}).`;
  return {
    ...report,
    hypotheses: llm ? [...report.hypotheses, llmHypothesis(llm, v)] : report.hypotheses,
    remediation: withNote(report, note),
  };
}

/** The rules' verdict "the run succeeded, nothing failed" (the engine's own wording for a healthy run). */
function rulesFoundHealthy(report: Report): boolean {
  return report.rootCause === null && report.remediation.summary === remediationFor(null, [], false).summary;
}

/** The rules abstained: adopt Claude's root cause only when well cited, capped, and not dismissed by the rules. */
function fillAbstention(report: Report, llm: RootCause, v: ValidatedAnswer): Report {
  const dismissed = report.hypotheses.some((h) => h.category === llm.category && h.status === 'dismissed');
  const confidence = Math.min(llm.confidence, UNDECIDED_CAP);
  const healthy = rulesFoundHealthy(report);
  if (healthy || dismissed || confidence < MIN_CONFIDENCE) {
    const why = healthy
      ? 'the rules found no failure signal in this run'
      : dismissed
        ? 'the rules dismissed that category'
        : `its confidence (${confidence}%) is too low`;
    const note = `Claude's second opinion disagrees with the abstention: it points to ${llm.category} (${llm.culprit.kind} ${llm.culprit.id}, citing ${ids(llm.evidence)}), but Heal does not adopt it because ${why}.`;
    return {
      ...report,
      hypotheses: [...report.hypotheses, llmHypothesis(llm, v)],
      remediation: withNote(report, note),
    };
  }
  const rootCause: RootCause = {
    ...llm,
    confidence,
    summary: `${llm.summary} (From Claude's second opinion: the rules abstained. Confidence capped at ${UNDECIDED_CAP}%: no rule confirms it.)`,
  };
  const base = remediationFor(rootCause, [], true);
  const note = `Claude's second opinion disagrees with the rules, which abstained: this root cause is Claude's, cited to ${ids(llm.evidence)}; verify it before acting.`;
  return {
    ...report,
    rootCause,
    hypotheses: [...report.hypotheses, llmHypothesis(llm, v)],
    remediation: { ...base, summary: `${base.summary}\n\n${note}` },
  };
}

function bothAbstain(report: Report, v: ValidatedAnswer): Report {
  const need = v.missingEvidence.length ? ` It would need: ${v.missingEvidence.join('; ')}.` : '';
  return {
    ...report,
    remediation: withNote(report, `Claude's second opinion agrees that the evidence does not decide.${need}`),
  };
}

function budgetGap(bundle: EvidenceBundle, total: number): string[] {
  if (!bundle.omitted.length && !bundle.truncated.length) return [];
  const omitted = bundle.omitted.length ? ` omitted ${bundle.omitted.join(', ')};` : '';
  const cut = bundle.truncated.length ? ` shortened ${bundle.truncated.join(', ')};` : '';
  return [
    `Claude second opinion saw ${bundle.shown.length} of ${total} evidence items (token budget:${omitted}${cut} the rules saw all).`,
  ];
}

/** The merged report for each combination of the two opinions, or why Claude's agreement is not counted. */
function chooseMerge(report: Report, v: ValidatedAnswer, bundle: EvidenceBundle): Report | string {
  const rules = report.rootCause;
  const llm = v.rootCause;
  if (rules && llm && llm.category === rules.category) {
    const clean = llm.evidence.filter((id) => !bundle.flagged.includes(id));
    if (!clean.length)
      return `Claude second opinion: agreement not counted: it rests only on evidence that contains instructions to an AI (${ids(llm.evidence)}).`;
    return agree(report, rules, { ...llm, evidence: clean });
  }
  if (rules && (llm || v.abstained)) return disagree(report, rules, v);
  if (!rules && llm) return fillAbstention(report, llm, v);
  if (!rules && v.abstained) return bothAbstain(report, v);
  return report;
}

/** Merges a validated answer into the rules' report (pure; exported for tests). */
export function mergeSecondOpinion(report: Report, v: ValidatedAnswer, bundle: EvidenceBundle): Report {
  const gaps = [
    ...report.gaps,
    ...budgetGap(bundle, report.evidence.length),
    ...v.rejected.map((r) => `Claude second opinion: ${r}.`),
  ];
  const contributed = v.rootCause !== null || v.abstained || v.hypotheses.length > 0;
  if (!contributed) return { ...report, gaps };
  const merged = chooseMerge(report, v, bundle);
  if (typeof merged === 'string') return { ...report, gaps: [...gaps, merged] };
  const llm = v.rootCause;
  const skip = new Set(llm ? [llm.category] : []);
  return {
    ...merged,
    hypotheses: [...merged.hypotheses, ...extraHypotheses(report, v, skip)],
    engine: 'rules+llm',
    gaps,
  };
}
