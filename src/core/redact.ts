/**
 * Secret redaction for untrusted text (logs, alerts, API payloads) before it reaches Slack, the LLM
 * or a report. Patterns are deliberately broad: a false positive costs a few characters, a miss leaks.
 */
const PATTERNS: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[REDACTED private key]'],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, '[REDACTED slack token]'],
  [/\bxapp-[A-Za-z0-9-]{10,}/g, '[REDACTED slack token]'],
  [/\bsk-ant-[A-Za-z0-9_-]{10,}/g, '[REDACTED api key]'],
  [/\bsk-[A-Za-z0-9]{20,}/g, '[REDACTED api key]'],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, '[REDACTED github token]'],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, '[REDACTED github token]'],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, '[REDACTED aws key id]'],
  [/\bhttps:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9/_-]+/g, '[REDACTED slack webhook]'],
  [/\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}/g, '[REDACTED api key]'],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, '[REDACTED google api key]'],
  [/\bnpm_[A-Za-z0-9]{30,}/g, '[REDACTED npm token]'],
  [/\bglpat-[A-Za-z0-9_-]{20,}/g, '[REDACTED gitlab token]'],
  [/\bdapi[0-9a-f]{32}(?:-\d)?\b/g, '[REDACTED databricks token]'],
  [/\bhf_[A-Za-z0-9]{30,}/g, '[REDACTED huggingface token]'],
  [/\bdbtc_[A-Za-z0-9_-]{20,}/g, '[REDACTED dbt cloud token]'],
  [/\b(AccountKey|SharedAccessKey|sig)=([A-Za-z0-9+/%=]{16,})/g, '$1=[REDACTED]'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, '[REDACTED jwt]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [REDACTED]'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):(?!\[REDACTED)([^\s@/]+)@/gi, '$1$2:[REDACTED]@'],
  // A key as the whole userinfo (Sentry DSNs, token-in-URL clones): long, no password part.
  [/(\b[a-z][a-z0-9+.-]*:\/\/)(?!\[REDACTED)[A-Za-z0-9_-]{16,}@/gi, '$1[REDACTED]@'],
  [
    /(\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|account[_-]?key|credential)s?[\w.-]*\s*["']?\s*[:=]\s*["']?)(?!\[REDACTED)([^\s"',;&}]{3,})/gi,
    '$1[REDACTED]',
  ],
];

/** Replaces anything that looks like a secret with a `[REDACTED …]` marker. */
export function redact(text: string): string {
  let out = text;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** Truncates to `max` characters, saying how much was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `… [truncated ${text.length - max} chars]`;
  return text.slice(0, Math.max(0, max - note.length)) + note;
}

/**
 * Fences untrusted text as data for an LLM prompt: the content cannot close the fence, and the
 * model is told it is data, never instructions.
 */
export function fenceUntrusted(label: string, text: string): string {
  const safe = redact(text).replace(/<\s*\/\s*untrusted/gi, '<\\/untrusted');
  return `<untrusted source="${label.replace(/"/g, "'")}">\n${safe}\n</untrusted>`;
}
