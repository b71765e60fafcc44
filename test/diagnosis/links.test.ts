import { describe, expect, it } from 'vitest';
import type { Collection, Finding, PinResult, RuleOutcome } from '../../src/adapters/types.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/logger.ts';
import { danglingCitations } from '../../src/core/report.ts';
import { buildReport } from '../../src/diagnosis/engine.ts';
import { followLinks, type LinkedRun, mergeLinked } from '../../src/diagnosis/links.ts';

const ev = (n: number, source: string) =>
  Array.from({ length: n }, (_, i) => ({
    id: `E${i + 1}`,
    source,
    title: `${source} ${i + 1}`,
    excerpt: '',
    ref: '/',
  }));
const pin = (target: PinResult['target']): PinResult => ({
  target,
  pinned: { ref: 'r', codeRef: null, dataRef: null, deterministic: false },
});
const finding = (over: Partial<Finding>): Finding => ({
  category: 'airflow.oom_killed',
  title: 't',
  likelihood: 80,
  status: 'confirmed',
  evidenceFor: ['E1'],
  evidenceAgainst: [],
  reasoning: 'r',
  culprit: { kind: 'task', id: 'run_spark_job' },
  decisive: true,
  summary: 's',
  ...over,
});

const airflowPin = pin({ platform: 'airflow', dagId: 'd', runId: 'r' });
const parent: Collection = { evidence: ev(3, 'airflow.log'), evidenceIndex: {}, gaps: [], facts: {} };
const sparkRun: LinkedRun = {
  link: {
    target: { platform: 'spark', appId: 'app-1' },
    reason: 'application id in the task log',
    from: { kind: 'task', id: 'run_spark_job' },
  },
  pin: pin({ platform: 'spark', appId: 'app-1' }),
  collection: { evidence: ev(2, 'spark.stage'), evidenceIndex: {}, gaps: ['spark gap'], facts: {} },
};

describe('linked runs (drill-down)', () => {
  it('lets the launched run’s confirmed cause lead, renumbering its evidence', () => {
    const own: RuleOutcome = { failed: true, findings: [finding({})], notes: [] };
    const child: RuleOutcome = {
      failed: true,
      findings: [
        finding({ category: 'spark.data_skew', culprit: { kind: 'stage', id: '3' }, evidenceFor: ['E2'] }),
      ],
      notes: [],
    };
    const merged = mergeLinked(parent, own, [{ run: sparkRun, outcome: child }]);
    expect(merged.collection.evidence.map((e) => e.id)).toEqual(['E1', 'E2', 'E3', 'E4', 'E5']);
    expect(merged.collection.gaps).toEqual(['spark gap']);
    const report = buildReport({ incidentId: 'inc_a', pin: airflowPin, ...merged });
    expect(report.rootCause).toMatchObject({
      category: 'spark.data_skew',
      culprit: { id: '3' },
      evidence: ['E5'],
    });
    expect(report.hypotheses.find((h) => h.category === 'airflow.oom_killed')?.status).toBe('inconclusive');
    expect(danglingCitations(report)).toEqual([]);
    expect(report.remediation.summary).toBeTruthy();
  });

  it('keeps the parent’s cause when the launched run succeeded', () => {
    const own: RuleOutcome = {
      failed: true,
      findings: [finding({ category: 'airflow.auth_error' })],
      notes: [],
    };
    const merged = mergeLinked(parent, own, [
      { run: sparkRun, outcome: { failed: false, findings: [], notes: [] } },
    ]);
    const report = buildReport({ incidentId: 'inc_a', pin: airflowPin, ...merged });
    expect(report.rootCause?.category).toBe('airflow.auth_error');
    expect(report.remediation.summary).toBeTruthy();
  });

  it('states a link it cannot follow as a gap', async () => {
    const ctx = {
      config: loadConfig({ SPARK_HISTORY_URL: 'http://127.0.0.1:45998' }),
      log: createLogger('silent'),
    };
    const out = await followLinks({ ...parent, links: [sparkRun.link, sparkRun.link] }, ctx);
    expect(out.linked).toBeUndefined();
    expect(out.gaps).toHaveLength(1);
    expect(out.gaps[0]).toMatch(/Could not follow spark app-1 .*connection refused/);
  });
});

describe('following a local dbt path named in a log', () => {
  const link = (path: string) => ({
    target: { platform: 'dbt' as const, path },
    reason: 'dbt target named in the log of task run_dbt, try 1',
  });

  it('is refused without HEAL_DBT_ROOTS, and outside them', async () => {
    const none = { config: loadConfig({}), log: createLogger('silent') };
    const out = await followLinks({ ...parent, links: [link('/etc/target')] }, none);
    expect(out.gaps[0]).toMatch(/Not followed: dbt \/etc\/target .*until HEAL_DBT_ROOTS lists/);
    const roots = { config: loadConfig({ HEAL_DBT_ROOTS: '/srv/dbt' }), log: createLogger('silent') };
    const outside = await followLinks({ ...parent, links: [link('/srv/dbt/../../etc/target')] }, roots);
    expect(outside.gaps[0]).toMatch(/only under the directories in HEAL_DBT_ROOTS/);
  });

  it('is followed under a configured root (a missing dir is a gap, not a crash)', async () => {
    const ctx = { config: loadConfig({ HEAL_DBT_ROOTS: '/srv/dbt' }), log: createLogger('silent') };
    const out = await followLinks({ ...parent, links: [link('/srv/dbt/shop/target')] }, ctx);
    expect(out.gaps[0]).toMatch(/^Could not follow dbt \/srv\/dbt\/shop\/target/);
  });
});
