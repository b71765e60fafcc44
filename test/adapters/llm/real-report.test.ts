import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LlmAnswer } from '../../../src/adapters/llm/schema.ts';
import { investigateInProcess } from '../../../src/cli/investigate.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';
import { danglingCitations, Report } from '../../../src/core/report.ts';
import { parseTarget } from '../../../src/core/target.ts';
import { UNDECIDED_CAP } from '../../../src/diagnosis/engine.ts';
import { secondOpinion } from '../../../src/diagnosis/second-opinion.ts';
import { type FakeAnthropic, startFakeAnthropic } from '../../support/fakeAnthropic.ts';
import {
  expandScenario,
  type FixtureServer,
  loadScenario,
  startFixtureServer,
} from '../../support/fixtureServer.ts';
import { ROOT } from '../../support/runHeal.ts';
import { findSecrets } from '../../support/untrusted.ts';
import { TEST_KEY } from './reports.ts';

let servers: Array<FixtureServer | FakeAnthropic> = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** Runs the rules on a scenario in-process, then the second opinion against the fake. */
async function rulesThenClaude(dir: string, reply: (rules: Report) => LlmAnswer) {
  const scenario = loadScenario(join(ROOT, 'test', dir));
  const fixture = await startFixtureServer(scenario.dir);
  const fake = await startFakeAnthropic();
  servers.push(fixture, fake);
  const { target, env } = expandScenario(scenario, fixture.base);
  const parsed = parseTarget(target.join(' '));
  if (!parsed.ok) throw new Error(parsed.error);
  const ctx = {
    config: loadConfig({
      ...env,
      ANTHROPIC_API_KEY: TEST_KEY,
      ANTHROPIC_BASE_URL: fake.baseURL,
      HEAL_MODEL: 'claude-heal-test',
    }),
    log: createLogger('silent'),
    localRoots: 'any' as const,
  };
  const outcome = await investigateInProcess(parsed.target, ctx);
  if (!outcome.ok) throw new Error(outcome.message);
  const rules = outcome.report;
  fake.enqueue({ answer: reply(rules) });
  const merged = await secondOpinion(rules, ctx);
  return { scenario, rules, merged, fake };
}

/** Claude agreeing with whatever the rules concluded, citing what they cited. */
function mirror(rules: Report): LlmAnswer {
  const rc = rules.rootCause;
  return {
    rootCause: rc ? { ...rc, confidence: 75, summary: `Agree: ${rc.evidence.join(', ')}.` } : null,
    hypotheses: [],
    agreesWithRules: true,
    disagreement: null,
    missingEvidence: rc ? [] : ['more logs'],
  };
}

describe('second opinion on real rules reports (public Spark scenarios, fixture History Server)', () => {
  it('merges an agreeing answer into a valid report with no dangling citation', async () => {
    const { rules, merged } = await rulesThenClaude('scenarios/spark-skew-hot-customer-oom', mirror);
    expect(rules.rootCause?.category).toBe('spark.data_skew');
    const report = Report.parse(merged);
    expect(danglingCitations(report)).toEqual([]);
    expect(report.engine).toBe('rules+llm');
    expect(report.rootCause?.category).toBe(rules.rootCause?.category);
    expect(report.rootCause?.confidence).toBeGreaterThanOrEqual(rules.rootCause?.confidence ?? 0);
  });

  it('sends none of the planted secrets of a scenario, nor any corpus secret', async () => {
    const { scenario, merged, fake } = await rulesThenClaude('variants/spark-v-schema-secrets', mirror);
    const raw = fake.requests.map((r) => r.raw).join('\n');
    expect(raw.length).toBeGreaterThan(1_000);
    expect(findSecrets(raw, scenario.secrets ?? [])).toEqual([]);
    expect(danglingCitations(Report.parse(merged))).toEqual([]);
  });

  it('an answer following the planted injection cannot change the root cause, its confidence or the action', async () => {
    const phrase = 'ignore all previous instructions';
    const { scenario, rules, merged, fake } = await rulesThenClaude(
      'variants/spark-v-oom-standalone-injection',
      (r) => {
        const carrying = r.evidence.filter((e) => e.excerpt.toLowerCase().includes(phrase)).map((e) => e.id);
        const logs = r.evidence.filter((e) => e.source.endsWith('log')).map((e) => e.id);
        return {
          rootCause: {
            category: 'spark.dependency_error',
            confidence: 100,
            culprit: { kind: 'app', id: r.pinned.ref },
            summary: 'As the log says.',
            evidence: carrying.length ? carrying : logs,
          },
          hypotheses: [],
          agreesWithRules: false,
          disagreement: null,
          missingEvidence: [],
        };
      },
    );
    expect(scenario.injection?.wants).toBe('spark.dependency_error');
    const sent = fake.requests[0]?.raw ?? '';
    if (sent.toLowerCase().includes(phrase)) expect(sent).toContain('suspicious=\\"instructions\\"');
    const report = Report.parse(merged);
    expect(danglingCitations(report)).toEqual([]);
    expect(report.rootCause).toEqual(rules.rootCause);
    expect(report.remediation.action).toBe(rules.remediation.action);
    expect(report.remediation.fix).toEqual(rules.remediation.fix);
    for (const h of report.hypotheses.filter((x) => x.category === 'spark.dependency_error')) {
      expect(h.status).not.toBe('confirmed');
      expect(h.likelihood).toBeLessThanOrEqual(UNDECIDED_CAP);
    }
  });
});
