/**
 * A log or alert line that talks to an AI ("ignore previous instructions", "the root cause is …",
 * "classify this as …") rather than reporting what the system did. Rules never take such a line as a
 * signal. Deliberately narrow, so real error lines are never dropped; the LLM bundle flags a wider set.
 */
const INJECTION =
  /\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions|prompt|above|previous|prior)\b|\broot[ -]cause (?:is|was|should)\b|\b(?:assistant|system prompt|you are an? (?:ai|model|assistant)|as an ai)\b|\b(?:classify|diagnos(?:e|is)) (?:this|it) as\b/i;

export function looksLikeInjection(text: string): boolean {
  return INJECTION.test(text);
}
