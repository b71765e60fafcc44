/** Claude as a second opinion: the SDK wrapper, the evidence bundle, masking, the answer schema and its checks. */
export {
  buildBundle,
  CHARS_PER_TOKEN,
  DEFAULT_BUDGET_TOKENS,
  type EvidenceBundle,
  estimateTokens,
  looksLikeInjection,
  rankEvidence,
} from './bundle.ts';
export { askClaude, createLlmClient, describeLlmError, type LlmReply } from './client.ts';
export { createVault, type MaskVault, maskSecrets, unmaskAnswer } from './mask.ts';
export { SYSTEM_PROMPT } from './prompt.ts';
export { LlmAnswer } from './schema.ts';
export { type ValidatedAnswer, validateAnswer } from './validate.ts';
