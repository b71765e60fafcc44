import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { danglingCitations, Report } from '../../src/core/report.ts';
import { UNDECIDED_CAP } from '../../src/diagnosis/engine.ts';
import { AGREEMENT_BONUS, secondOpinion } from '../../src/diagnosis/second-opinion.ts';
import { answer, evidence, LLM_HYP, llmContext, rulesReport, TEST_KEY } from '../adapters/llm/reports.ts';
import { type FakeAnthropic, startFakeAnthropic } from '../support/fakeAnthropic.ts';
import { assertNoSecrets, findSecrets, INJECTIONS, SECRETS } from '../support/untrusted.ts';

let fake: FakeAnthropic;
beforeEach(async () => {
  fake = await startFakeAnthropic();
});
afterEach(async () => {
  await fake.close();
});

function valid(report: Report): Report {
  const parsed = Report.parse(report);
  expect(danglingCitations(parsed)).toEqual([]);
  return parsed;
}

describe('secondOpinion against the fake Anthropic API', () => {
  it('agrees: engine rules+llm, confidence up a little, progress from start to verdict', async () => {
    fake.enqueue({ answer: answer() });
    const progress: string[] = [];
    const rules = rulesReport();
    const out = valid(
      await secondOpinion(rules, llmContext(fake.baseURL), { onProgress: (t) => progress.push(t) }),
    );
    expect(out.engine).toBe('rules+llm');
    expect(out.rootCause?.category).toBe('spark.data_skew');
    expect(out.rootCause?.confidence).toBe(85 + AGREEMENT_BONUS);
    expect(out.rootCause?.summary).toMatch(/Claude's second opinion agrees/);
    expect(out.gaps).toEqual([]);
    expect(progress[0]).toMatch(/^Asking Claude \(claude-heal-test\).*5 of 5 evidence items/);
    expect(progress).toContain('Claude is reviewing the evidence…');
    expect(progress.at(-1)).toBe('Claude agrees with the rules.');
    expect(fake.requests).toHaveLength(1);
  });

  it('never lifts a capped (non-decisive) root cause above the cap on agreement', async () => {
    fake.enqueue({ answer: answer() });
    const out = await secondOpinion(rulesReport({ confidence: UNDECIDED_CAP }), llmContext(fake.baseURL));
    expect(out.rootCause?.confidence).toBe(UNDECIDED_CAP);
  });

  it('disagrees: keeps the rules root cause, shows both and says so', async () => {
    fake.enqueue({
      answer: answer({
        rootCause: {
          category: 'spark.executor_oom',
          confidence: 90,
          culprit: { kind: 'stage', id: '3' },
          summary: 'Heap too small (E4).',
          evidence: ['E4'],
        },
        agreesWithRules: false,
        disagreement: 'E4 shows java.lang.OutOfMemoryError on 4 executors.',
      }),
    });
    const out = valid(await secondOpinion(rulesReport(), llmContext(fake.baseURL)));
    expect(out.engine).toBe('rules+llm');
    expect(out.rootCause?.category).toBe('spark.data_skew');
    expect(out.rootCause?.confidence).toBe(85);
    const mine = out.hypotheses.find((h) => h.title.startsWith("Claude's second opinion"));
    expect(mine).toMatchObject({
      category: 'spark.executor_oom',
      status: 'inconclusive',
      evidenceFor: ['E4'],
    });
    expect(mine?.likelihood).toBeLessThanOrEqual(UNDECIDED_CAP);
    expect(out.remediation.summary).toMatch(
      /disagrees: it points to spark\.executor_oom.*keeps the rules' answer/,
    );
  });

  it('fills an abstention only with a well-cited answer, capped', async () => {
    fake.enqueue({ answer: answer({ agreesWithRules: false }) });
    const out = valid(await secondOpinion(rulesReport({ abstain: true }), llmContext(fake.baseURL)));
    expect(out.rootCause).toMatchObject({
      category: 'spark.data_skew',
      confidence: Math.min(80, UNDECIDED_CAP),
    });
    expect(out.rootCause?.summary).toMatch(/the rules abstained/);
    expect(out.remediation.summary).toMatch(
      /Claude's second opinion disagrees with the rules, which abstained/,
    );
  });

  it('does not adopt a category the rules dismissed when they abstained', async () => {
    fake.enqueue({
      answer: answer({
        rootCause: {
          category: 'spark.executor_oom',
          confidence: 95,
          culprit: { kind: 'stage', id: '3' },
          summary: 'OOM',
          evidence: ['E4'],
        },
      }),
    });
    const out = valid(await secondOpinion(rulesReport({ abstain: true }), llmContext(fake.baseURL)));
    expect(out.rootCause).toBeNull();
    expect(out.remediation.summary).toMatch(/does not adopt it because the rules dismissed/);
  });

  it('rejects a root cause citing a hallucinated evidence id, and a non-taxonomy category', async () => {
    fake.enqueue({
      answer: answer({
        rootCause: {
          category: 'spark.driver_oom',
          confidence: 99,
          culprit: { kind: 'driver', id: 'driver' },
          summary: 'See E99.',
          evidence: ['E2', 'E99'],
        },
        hypotheses: [
          { ...LLM_HYP, category: 'spark.cosmic_rays' },
          { ...LLM_HYP, category: 'spark.driver_oom', evidenceFor: ['E42'] },
        ],
      }),
    });
    const rules = rulesReport({ abstain: true });
    const out = valid(await secondOpinion(rules, llmContext(fake.baseURL)));
    expect(out.rootCause).toBeNull();
    expect(out.engine).toBe('rules');
    expect(out.hypotheses).toEqual(rules.hypotheses);
    expect(out.gaps.join('\n')).toMatch(
      /root cause spark\.driver_oom rejected: it cites E99, which is not in the evidence/,
    );
    expect(out.gaps.join('\n')).toMatch(
      /hypothesis spark\.cosmic_rays rejected: it uses "spark\.cosmic_rays", not a taxonomy id/,
    );
    expect(out.gaps.join('\n')).toMatch(/hypothesis spark\.driver_oom rejected: it cites E42/);
  });

  it.each(INJECTIONS.filter((i) => /^[a-z]+\.[a-z_]+$/.test(i.wants)))(
    'an answer that follows the injection "$id" changes nothing',
    async (inj) => {
      const ev = [1, 2, 3, 4, 5].map((n) => evidence(n));
      ev.push(evidence(6, { source: 'spark.executor_log', title: 'executor 7 stderr', excerpt: inj.text }));
      const rules = rulesReport({ evidence: ev });
      fake.enqueue({
        answer: answer({
          rootCause: {
            category: inj.wants,
            confidence: 100,
            culprit: { kind: 'app', id: 'app-20270101000000-0001' },
            summary: 'As instructed.',
            evidence: ['E6'],
          },
          agreesWithRules: false,
        }),
      });
      const out = valid(await secondOpinion(rules, llmContext(fake.baseURL)));
      expect(out.rootCause).toEqual(rules.rootCause);
      expect(out.remediation).toEqual(rules.remediation);
      expect(out.hypotheses).toEqual(rules.hypotheses);
      expect(out.gaps.join('\n')).toMatch(
        /(rejected|not counted): it rests only on evidence that contains instructions to an AI \(E6\)/,
      );
      const sent = String(fake.requests[0]?.body.messages && JSON.stringify(fake.requests[0].body.messages));
      expect(sent).toContain('## E6 · spark.executor_log · suspicious=\\"instructions\\"');
    },
  );

  it('retries a 429 (retry-after) and then succeeds', async () => {
    fake.enqueue(
      {
        status: 429,
        errorType: 'rate_limit_error',
        message: 'Number of request tokens has exceeded your per-minute rate limit',
        retryAfter: '0',
      },
      { answer: answer() },
    );
    const out = await secondOpinion(rulesReport(), llmContext(fake.baseURL));
    expect(out.engine).toBe('rules+llm');
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]?.headers['x-stainless-retry-count']).toBe('1');
  });

  it('turns 529 overloaded (after the SDK retries) into a gap and the rules report unchanged', async () => {
    const overloaded = { status: 529, errorType: 'overloaded_error', message: 'Overloaded', retryAfter: '0' };
    fake.enqueue(overloaded, overloaded, overloaded);
    const rules = rulesReport();
    const progress: string[] = [];
    const out = valid(
      await secondOpinion(rules, llmContext(fake.baseURL), { onProgress: (t) => progress.push(t) }),
    );
    expect(fake.requests).toHaveLength(3);
    expect(out).toEqual({
      ...rules,
      gaps: [
        expect.stringMatching(
          /^Claude second opinion unavailable: HTTP 529 overloaded_error after retries: Overloaded \(request req_/,
        ),
      ],
    });
    expect(progress.at(-1)).toMatch(/^Claude second opinion unavailable/);
  });

  it('turns malformed JSON output into a gap', async () => {
    fake.enqueue({ text: '{"rootCause": {"category": "spark.data_skew", "confid' });
    const rules = rulesReport();
    const out = await secondOpinion(rules, llmContext(fake.baseURL));
    expect(out.rootCause).toEqual(rules.rootCause);
    expect(out.engine).toBe('rules');
    expect(out.gaps).toEqual([
      expect.stringMatching(/^Claude second opinion unavailable: malformed answer: .*JSON/),
    ]);
  });

  it('turns a schema-violating answer and a max_tokens cut-off into gaps', async () => {
    fake.enqueue(
      { answer: { rootCause: 'spark.data_skew' } },
      { answer: answer(), stopReason: 'max_tokens' },
    );
    const a = await secondOpinion(rulesReport(), llmContext(fake.baseURL));
    const b = await secondOpinion(rulesReport(), llmContext(fake.baseURL));
    expect(a.gaps[0]).toMatch(/unavailable: malformed answer/);
    expect(b.gaps[0]).toMatch(/unavailable: answer cut off at max_tokens/);
  });

  it('turns a timeout into a gap', async () => {
    fake.enqueue({ hang: true });
    const out = await secondOpinion(rulesReport(), llmContext(fake.baseURL), {
      timeoutMs: 300,
      maxRetries: 0,
    });
    expect(out.gaps).toEqual(['Claude second opinion unavailable: request timed out']);
  });

  it('without ANTHROPIC_API_KEY returns the report unchanged and sends nothing', async () => {
    const rules = rulesReport();
    const ctx = llmContext(fake.baseURL, { ANTHROPIC_API_KEY: '' });
    expect(await secondOpinion(rules, ctx)).toBe(rules);
    expect(fake.requests).toHaveLength(0);
  });

  it('sends no secret from the corpus, wherever it sits in the report, and no secret comes back', async () => {
    const ev = SECRETS.map((s, i) =>
      evidence(i + 1, {
        title: `log line ${s.id}`,
        excerpt: `ERROR ${s.context}`,
        ref: `/logs/${i}?ctx=${s.context.slice(0, 60)}`,
      }),
    );
    const rules = rulesReport({ evidence: ev });
    const withSecrets: Report = {
      ...rules,
      hypotheses: rules.hypotheses.map((h, i) => ({
        ...h,
        reasoning: `${h.reasoning} ${SECRETS[i]?.context}`,
      })),
      gaps: [`History Server at ${SECRETS.find((s) => s.id === 'postgres-url-password')?.context}`],
    };
    const echo = {
      ...LLM_HYP,
      category: 'spark.dependency_error',
      status: 'inconclusive' as const,
      evidenceFor: ['E1'],
      reasoning: 'The key ⟦SECRET_1⟧ and AKIAIOSFODNN7EXAMPLE appear in E1.',
    };
    fake.enqueue({ answer: answer({ hypotheses: [echo] }) });
    const out = await secondOpinion(withSecrets, llmContext(fake.baseURL), { budgetTokens: 100_000 });
    const req = fake.requests[0];
    expect(req).toBeDefined();
    expect(findSecrets(req?.raw ?? '')).toEqual([]);
    expect(req?.raw).not.toContain(TEST_KEY);
    expect(req?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    const added = out.hypotheses.find((h) => h.category === 'spark.dependency_error');
    expect(added?.reasoning).toMatch(
      /^The key \[REDACTED [a-z ]+\] and \[REDACTED aws key id\] appear in E1\.$/,
    );
    assertNoSecrets(JSON.stringify(added));
  });
});
