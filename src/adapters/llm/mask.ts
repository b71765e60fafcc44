/**
 * Secret masking for text sent to the LLM, with round-trip placeholders.
 *
 * - Secrets (anything `redact` recognises, plus long high-entropy tokens) become `⟦SECRET_n⟧`. The vault keeps
 *   only the kind of secret, never its value, so unmasking yields `[REDACTED <kind>]`: a secret is never sent
 *   and can never come back.
 * - Non-secret personal identifiers (e-mail addresses) become `⟦EMAIL_n⟧` and are mapped back to the original
 *   on unmasking, so the answer stays readable.
 */
import { redact } from '../../core/redact.ts';

/** Per-request placeholder table. Holds e-mail addresses and secret kinds, never a secret value. */
export interface MaskVault {
  secrets: string[];
  emails: string[];
}

export function createVault(): MaskVault {
  return { secrets: [], emails: [] };
}

/**
 * Token formats `redact` does not know yet (kept here so the LLM path is covered; candidates for core/redact.ts).
 */
const EXTRA: Array<[RegExp, string]> = [
  [/\bglpat-[A-Za-z0-9_-]{20,}/g, '[REDACTED gitlab token]'],
  [/\bdapi[a-f0-9]{32}(?:-\d+)?\b/g, '[REDACTED databricks token]'],
  [/\bhf_[A-Za-z0-9]{30,}/g, '[REDACTED huggingface token]'],
  [/\bdbt[cu]_[A-Za-z0-9_-]{20,}/g, '[REDACTED dbt cloud token]'],
  // A key as the whole userinfo (Sentry-style DSNs), or a password after an empty user (redis://:pw@).
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[A-Za-z0-9]{16,}@/gi, '$1[REDACTED dsn key]@'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/):([^\s@/]+)@/gi, '$1:[REDACTED password]@'],
];

const REDACTED = /\[REDACTED(?: ([a-z ]+))?\]/g;
const EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g;
/** Candidate opaque tokens: long runs of base64/url-safe characters. */
const TOKEN = /[A-Za-z0-9+/=_-]{32,}/g;
const PLACEHOLDER = /⟦(SECRET|EMAIL)_(\d+)⟧/g;

function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length);
  return h;
}

/**
 * True for tokens that look like key material rather than names: mixed case and digits, high entropy, and not a
 * path made of word-like segments (a false positive costs a readable id, a miss leaks a key).
 */
export function looksLikeKeyMaterial(token: string): boolean {
  if (!/[A-Z]/.test(token) || !/[a-z]/.test(token) || !/\d/.test(token)) return false;
  const parts = token.split('/').filter(Boolean);
  if (parts.filter((p) => /^[a-z0-9._-]+$/.test(p)).length >= 2) return false; // an API path or file path
  const segments = token.split(/[/_-]/).filter(Boolean);
  if (segments.length > 1 && segments.every((s) => s.length < 20)) return false;
  return entropy(token) >= 4.2;
}

function secretPlaceholder(vault: MaskVault, kind: string): string {
  vault.secrets.push(kind);
  return `⟦SECRET_${vault.secrets.length}⟧`;
}

/** Masks secrets and e-mail addresses in `text`, recording placeholders in `vault`. */
export function maskSecrets(text: string, vault: MaskVault): string {
  // Text that already contains our placeholder brackets must not be able to forge one.
  const neutral = text.replaceAll('⟦', '[[').replaceAll('⟧', ']]');
  const known = EXTRA.reduce((t, [re, to]) => t.replace(re, to), neutral);
  const redacted = redact(known).replace(TOKEN, (tok) =>
    looksLikeKeyMaterial(tok) ? secretPlaceholder(vault, 'opaque token') : tok,
  );
  const masked = redacted.replace(REDACTED, (_m, kind: string | undefined) =>
    secretPlaceholder(vault, kind ?? 'secret'),
  );
  return masked.replace(EMAIL, (email) => {
    const known = vault.emails.indexOf(email);
    if (known >= 0) return `⟦EMAIL_${known + 1}⟧`;
    vault.emails.push(email);
    return `⟦EMAIL_${vault.emails.length}⟧`;
  });
}

/**
 * Maps placeholders in an answer back: e-mails to their original, secrets to `[REDACTED <kind>]`, unknown
 * placeholders to `[unknown placeholder]`. The result is redacted again, so a secret the model produced on its
 * own (from an injection or memory) does not come back either.
 */
export function unmaskAnswer(text: string, vault: MaskVault): string {
  const mapped = text.replace(PLACEHOLDER, (_m, kind: string, n: string) => {
    const i = Number(n) - 1;
    if (kind === 'EMAIL') return vault.emails[i] ?? '[unknown placeholder]';
    const secret = vault.secrets[i];
    return secret === undefined ? '[unknown placeholder]' : `[REDACTED ${secret}]`;
  });
  return redact(mapped);
}
