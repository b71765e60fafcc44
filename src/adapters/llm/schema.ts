import { z } from 'zod';

/**
 * The structured answer asked of Claude (sent as the `output_config.format` JSON schema and validated with zod
 * on the way back). Categories, culprit kinds and evidence ids are plain strings on the wire on purpose: one
 * invented category or id rejects that claim only (see validate.ts), not the whole answer.
 */
export const LlmRootCause = z.object({
  category: z.string().describe('A taxonomy id from the system prompt.'),
  confidence: z.number().describe('0-100.'),
  culprit: z.object({
    kind: z.string().describe('A culprit kind from the system prompt.'),
    id: z.string().describe('The stage, task, model, input… exactly as named in the evidence.'),
  }),
  summary: z.string().describe('One or two sentences, citing evidence ids.'),
  evidence: z.array(z.string()).describe('Evidence ids (E1, E2, …) that support this root cause.'),
});
export type LlmRootCause = z.infer<typeof LlmRootCause>;

export const LlmHypothesis = z.object({
  category: z.string(),
  title: z.string(),
  likelihood: z.number().describe('0-100.'),
  status: z.enum(['confirmed', 'dismissed', 'inconclusive']),
  evidenceFor: z.array(z.string()),
  evidenceAgainst: z.array(z.string()),
  reasoning: z.string(),
});
export type LlmHypothesis = z.infer<typeof LlmHypothesis>;

export const LlmAnswer = z.object({
  rootCause: LlmRootCause.nullable().describe('null when the evidence does not decide (abstain).'),
  hypotheses: z.array(LlmHypothesis),
  agreesWithRules: z.boolean(),
  disagreement: z
    .string()
    .nullable()
    .describe('Where and why you disagree with the rules engine, citing evidence ids; null if you agree.'),
  missingEvidence: z.array(z.string()).describe('Evidence that would decide, when it does not.'),
});
export type LlmAnswer = z.infer<typeof LlmAnswer>;
