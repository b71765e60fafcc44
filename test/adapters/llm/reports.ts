/** Small hand-built reports (valid against `Report`) for the second-opinion tests. */

import type { LlmAnswer } from '../../../src/adapters/llm/schema.ts';
import type { AdapterContext } from '../../../src/adapters/types.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';
import { type Evidence, Report, type RootCause } from '../../../src/core/report.ts';
import { remediationFor } from '../../../src/diagnosis/remediation.ts';

export function evidence(n: number, extra: Partial<Evidence> = {}): Evidence {
  return {
    id: `E${n}`,
    source: 'spark.stage',
    title: `Stage ${n} summary`,
    excerpt: `stage ${n}: 48 tasks, max shuffle read 7.9 GiB, median 180 MiB`,
    ref: `/api/v1/applications/app-20270101000000-0001/stages/${n}`,
    ...extra,
  };
}

const SKEW: RootCause = {
  category: 'spark.data_skew',
  confidence: 85,
  culprit: { kind: 'stage', id: '3' },
  summary: 'One partition of stage 3 read 40x the median shuffle.',
  evidence: ['E2', 'E3'],
};

/** A Spark report where the rules name data skew on stage 3 (or abstain, with `abstain`). */
export function rulesReport(
  opts: { abstain?: boolean; evidence?: Evidence[]; confidence?: number } = {},
): Report {
  const rootCause = opts.abstain ? null : { ...SKEW, confidence: opts.confidence ?? SKEW.confidence };
  return Report.parse({
    id: 'inc_test0001',
    target: { platform: 'spark', appId: 'app-20270101000000-0001' },
    pinned: { ref: 'app-20270101000000-0001/1', codeRef: null, dataRef: null, deterministic: true },
    evidence: opts.evidence ?? [1, 2, 3, 4, 5].map((n) => evidence(n)),
    hypotheses: [
      {
        category: 'spark.data_skew',
        title: 'Data skew',
        likelihood: 85,
        status: opts.abstain ? 'inconclusive' : 'confirmed',
        evidenceFor: ['E2', 'E3'],
        evidenceAgainst: [],
        reasoning: 'max/median shuffle read 40x',
      },
      {
        category: 'spark.executor_oom',
        title: 'Executor heap OOM',
        likelihood: 30,
        status: 'dismissed',
        evidenceFor: ['E4'],
        evidenceAgainst: ['E2'],
        reasoning: 'the OOM hits only the hot partition',
      },
    ],
    rootCause,
    remediation: remediationFor(rootCause, ['No hypothesis is confirmed by the evidence.'], true),
    engine: 'rules',
    gaps: [],
  });
}

/** Claude's root cause in the default answer (agrees with the rules). */
export const LLM_RC: NonNullable<LlmAnswer['rootCause']> = {
  ...SKEW,
  confidence: 80,
  summary: 'Partition 37 of stage 3 carries the hot key (E2, E3).',
};
export const LLM_HYP: LlmAnswer['hypotheses'][number] = {
  category: 'spark.data_skew',
  title: 'Hot key',
  likelihood: 80,
  status: 'confirmed',
  evidenceFor: ['E2', 'E3'],
  evidenceAgainst: [],
  reasoning: 'E3 shows 7.9 GiB fetched by one task.',
};

/** A structured answer as Claude would send it. */
export function answer(over: Partial<LlmAnswer> = {}): LlmAnswer {
  return {
    rootCause: LLM_RC,
    hypotheses: [LLM_HYP],
    agreesWithRules: true,
    disagreement: null,
    missingEvidence: [],
    ...over,
  };
}

export const TEST_KEY = 'sk-ant-api03-TESTKEYfakefakefakefakefakefake';

export function llmContext(baseURL: string, env: Record<string, string> = {}): AdapterContext {
  return {
    config: loadConfig({
      ANTHROPIC_API_KEY: TEST_KEY,
      ANTHROPIC_BASE_URL: baseURL,
      HEAL_MODEL: 'claude-heal-test',
      ...env,
    }),
    log: createLogger('silent'),
  };
}
