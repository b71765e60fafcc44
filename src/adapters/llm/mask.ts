/**
 * Secret masking for text sent to the LLM, with round-trip placeholders.
 *
 * - Secrets (anything `redact` recognises, plus long high-entropy tokens) become `⟦SECRET_n⟧`. The vault keeps
 *   only the kind of secret, never its value, so unmasking yields `[REDACTED <kind>]`: a secret is never sent
 *   and can never come back.
 * - Non-secret personal identifiers (e-mail addresses) become `⟦EMAIL_n⟧` and are mapped back to the original
 *   on unmasking, so the answer stays readable.
 */
import { entropy, redact } from '../../core/redact.ts';

/** Per-request placeholder table. Holds e-mail addresses and secret kinds, never a secret value. */
export interface MaskVault {
  secrets: string[];
  emails: string[];
}

export function createVault(): MaskVault {
  return { secrets: [], emails: [] };
}

const REDACTED = /\[REDACTED(?: ([a-z ]+))?\]/g;
const EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g;
/** Candidate opaque tokens: long runs of base64/url-safe characters. */
const TOKEN = /[A-Za-z0-9+/=_-]{32,}/g;
const PLACEHOLDER = /⟦(SECRET|EMAIL)_(\d+)⟧/g;

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
  const redacted = redact(neutral).replace(TOKEN, (tok) =>
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
