import { describe, expect, it } from 'vitest';
import type { Collection, Finding, PinResult, RuleOutcome } from '../../src/adapters/types.ts';
import { danglingCitations } from '../../src/core/report.ts';
import { CATEGORIES, HYPOTHESIS_ONLY } from '../../src/core/taxonomy.ts';
import { buildReport, MIN_CONFIDENCE, UNDECIDED_CAP, unpinnedReport } from '../../src/diagnosis/engine.ts';
import { remediationFor } from '../../src/diagnosis/remediation.ts';

const pin: PinResult = {
  target: { platform: 'spark', appId: 'app-1' },
  pinned: { ref: 'app-1', codeRef: null, dataRef: null, deterministic: false },
};
const collection: Collection = {
  evidence: ['E1', 'E2', 'E3'].map((id) => ({
    id,
    source: 'spark.stage',
    title: id,
    excerpt: '',
    ref: '/x',
  })),
  evidenceIndex: {},
  gaps: ['Spark History Server: GET /environment failed: HTTP 500'],
  facts: {},
};
const finding = (over: Partial<Finding>): Finding => ({
  category: 'spark.data_skew',
  title: 'skew',
  likelihood: 85,
  status: 'confirmed',
  evidenceFor: ['E1'],
  evidenceAgainst: [],
  reasoning: 'r',
  culprit: { kind: 'stage', id: '3' },
  decisive: true,
  summary: 'Stage 3 is skewed.',
  ...over,
});
const report = (findings: Finding[], failed = true, notes: string[] = []) =>
  buildReport({
    incidentId: 'inc_abc',
    pin,
    collection,
    outcome: { failed, findings, notes } satisfies RuleOutcome,
  });

describe('diagnosis engine', () => {
  it('names the top confirmed finding with its culprit and evidence', () => {
    const r = report([
      finding({}),
      finding({ category: 'spark.executor_oom', status: 'dismissed', likelihood: 20 }),
    ]);
    expect(r.rootCause).toMatchObject({
      category: 'spark.data_skew',
      confidence: 85,
      culprit: { id: '3' },
      evidence: ['E1'],
    });
    expect(r.hypotheses.map((h) => h.status)).toEqual(['confirmed', 'dismissed']);
    expect(r.gaps).toEqual(collection.gaps);
    expect(r.remediation.action).toBe('fix');
  });

  it('caps confidence without decisive evidence, and says so', () => {
    const r = report([finding({ decisive: false, likelihood: 90 })]);
    expect(r.rootCause?.confidence).toBe(UNDECIDED_CAP);
    expect(r.rootCause?.summary).toMatch(/capped/);
  });

  it('abstains when two different causes fit equally well', () => {
    const r = report([
      finding({ likelihood: 80 }),
      finding({ category: 'spark.executor_oom', likelihood: 78 }),
    ]);
    expect(r.rootCause).toBeNull();
    expect(r.remediation.action).toBe('escalate');
    expect(r.remediation.summary).toMatch(/equally/);
  });

  it('abstains when the best hypothesis is too weak', () => {
    expect(report([finding({ likelihood: MIN_CONFIDENCE - 1 })]).rootCause).toBeNull();
  });

  it('abstains on a healthy run even if a rule fired', () => {
    const r = report([finding({})], false);
    expect(r.rootCause).toBeNull();
    expect(r.remediation.summary).toMatch(/completed successfully/);
  });

  it('drops citations of evidence that does not exist, and never confirms on none', () => {
    const r = report([finding({ evidenceFor: ['E9'], evidenceAgainst: ['E2', 'E42'] })]);
    expect(danglingCitations(r)).toEqual([]);
    expect(r.hypotheses[0]?.evidenceAgainst).toEqual(['E2']);
    expect(r.rootCause).toBeNull();
  });

  it('never names a hypothesis-only category as the root cause', () => {
    expect(report([finding({ category: 'airflow.upstream_failure' })]).rootCause).toBeNull();
  });

  it('marks transient causes as non-deterministic and suggests a rerun', () => {
    const r = report([finding({ category: 'spark.shuffle_fetch_failure' })]);
    expect(r.pinned.deterministic).toBe(false);
    expect(r.remediation.action).toBe('rerun');
    expect(report([finding({})]).pinned.deterministic).toBe(true);
  });

  it('states an unpinnable run as a gap, not a crash', () => {
    const r = unpinnedReport('inc_abc', pin.target, 'Spark History Server unreachable: ECONNREFUSED');
    expect(r.rootCause).toBeNull();
    expect(r.gaps[0]).toMatch(/unreachable/);
    expect(r.evidence[0]?.excerpt).toMatch(/unreachable/);
  });
});

describe('remediation', () => {
  it('has an action, a prevention test and monitoring for every category a root cause can name', () => {
    const rootable = CATEGORIES.filter((c) => c !== 'unknown' && !HYPOTHESIS_ONLY.has(c));
    for (const category of rootable) {
      const r = remediationFor(
        { category, confidence: 80, culprit: { kind: 'task', id: 't' }, summary: '', evidence: ['E1'] },
        [],
        true,
      );
      expect(r.prevention, category).not.toBe('Add a check that would have caught this earlier.');
      expect(r.summary, category).toMatch(/^(Rerun|Fix|Escalate)/);
      expect(r.monitoring.length, category).toBeGreaterThan(10);
    }
  });
});
