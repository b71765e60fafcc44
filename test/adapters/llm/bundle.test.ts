import { describe, expect, it } from 'vitest';
import { buildBundle, CHARS_PER_TOKEN, rankEvidence } from '../../../src/adapters/llm/bundle.ts';
import { validateAnswer } from '../../../src/adapters/llm/validate.ts';
import { answer, evidence, LLM_RC, rulesReport } from './reports.ts';

describe('the evidence bundle', () => {
  it('ranks evidence cited by the root cause, then by hypotheses, then the rest', () => {
    const report = rulesReport({ evidence: [1, 2, 3, 4, 5, 6].map((n) => evidence(n)) });
    expect(rankEvidence(report).map((e) => e.id)).toEqual(['E2', 'E3', 'E4', 'E1', 'E5', 'E6']);
  });

  it('fits a token budget, says what was cut, and keeps the highest-ranked items', () => {
    const big = 'x'.repeat(5_000);
    const ev = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => evidence(n, { excerpt: `${n} ${big}` }));
    const bundle = buildBundle(rulesReport({ evidence: ev }), { budgetTokens: 4_000 });
    expect(bundle.text.length).toBeLessThanOrEqual(4_000 * CHARS_PER_TOKEN);
    expect(bundle.shown.slice(0, 2)).toEqual(['E2', 'E3']);
    expect(bundle.omitted.length).toBeGreaterThan(0);
    expect([...bundle.shown, ...bundle.omitted].sort()).toEqual(ev.map((e) => e.id).sort());
    expect(bundle.text).toMatch(new RegExp(`Evidence: ${bundle.shown.length} of 8 items`));
    expect(bundle.text).toMatch(
      /Omitted to fit the budget \(not shown, do not cite\): E\d+ \(spark\.stage\)/,
    );
  });

  it('shortens one oversized item instead of letting it eat the budget', () => {
    const ev = [1, 2, 3].map((n) => evidence(n, { excerpt: n === 2 ? 'y'.repeat(50_000) : 'short' }));
    const bundle = buildBundle(rulesReport({ evidence: ev }));
    expect(bundle.truncated).toEqual(['E2']);
    expect(bundle.shown).toEqual(['E2', 'E3', 'E1']);
    expect(bundle.text).toMatch(/truncated \d+ chars/);
  });

  it('states the rules result, hypotheses and gaps, fencing their free text', () => {
    const report = { ...rulesReport(), gaps: ['executor logs: 404 from the History Server'] };
    const text = buildBundle(report).text;
    expect(text).toMatch(/Root cause: spark\.data_skew · confidence 85 · culprit stage 3 · evidence E2, E3/);
    expect(text).toMatch(/H2 spark\.executor_oom · dismissed · likelihood 30 · for E4 · against E2/);
    expect(text).toMatch(/<untrusted source="gaps">\nexecutor logs: 404/);
  });
});

describe('validateAnswer', () => {
  const report = rulesReport();
  const bundle = buildBundle(report, { budgetTokens: 1_000 });

  it('rejects citations of evidence that exists but was not shown (cut for the budget)', () => {
    const small = buildBundle(
      rulesReport({ evidence: [1, 2, 3, 4, 5].map((n) => evidence(n, { excerpt: 'z'.repeat(3_000) })) }),
      { budgetTokens: 1_000 },
    );
    const unseen = ['E1', 'E2', 'E3', 'E4', 'E5'].find((id) => !small.shown.includes(id)) ?? 'none';
    expect(unseen).not.toBe('none');
    const v = validateAnswer(answer({ rootCause: { ...LLM_RC, evidence: [unseen] } }), small, report);
    expect(v.rootCause).toBeNull();
    expect(v.rejected[0]).toMatch(new RegExp(`cites ${unseen}, which is not in the evidence`));
  });

  it('refuses hypothesis-only and unknown categories as a root cause, and bad culprit kinds', () => {
    for (const [category, kind, why] of [
      ['airflow.upstream_failure', 'task', /cannot be a root cause/],
      ['unknown', 'stage', /cannot be a root cause/],
      ['spark.data_skew', 'partition', /not a culprit kind/],
    ] as const) {
      const rc = { ...LLM_RC, category, culprit: { kind, id: '3' } };
      const v = validateAnswer(answer({ rootCause: rc }), bundle, report);
      expect(v.rootCause).toBeNull();
      expect(v.rejected[0]).toMatch(why);
    }
  });

  it('clamps numbers and bounds text', () => {
    const rc = { ...LLM_RC, confidence: 250, summary: 's'.repeat(5_000) };
    const v = validateAnswer(answer({ rootCause: rc }), bundle, report);
    expect(v.rootCause?.confidence).toBe(100);
    expect(v.rootCause?.summary.length).toBeLessThanOrEqual(600);
  });
});
