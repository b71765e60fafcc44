/**
 * The untrusted-text corpus (test/fixtures/untrusted) and a check that an outgoing payload (an LLM request
 * body, a Slack message) carries none of its secrets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'untrusted');

export interface CorpusSecret {
  id: string;
  kind: string;
  /** The exact substring that must never leave Heal. */
  secret: string;
  /** A log/config line embedding it. */
  context: string;
}

export interface CorpusInjection {
  id: string;
  text: string;
  /** What the injection tries to get (a category id, "approve", …). */
  wants: string;
}

const load = (file: string): CorpusSecret[] => JSON.parse(readFileSync(join(DIR, file), 'utf8')).secrets;

/**
 * The secrets corpus: `secrets.json`, plus `secrets-more.json` (issue 13: bare AWS secret keys, CLI password
 * flags, every `Authorization` scheme, provider tokens, JDBC/.netrc/cookie forms, OpenSSH and encrypted PEM).
 */
export const SECRETS: CorpusSecret[] = [...load('secrets.json'), ...load('secrets-more.json')];
export const INJECTIONS: CorpusInjection[] = JSON.parse(
  readFileSync(join(DIR, 'injections.json'), 'utf8'),
).injections;

/** Variants of a secret as it may appear in a serialised payload (raw, JSON-escaped, URL-encoded). */
function spellings(secret: string): string[] {
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])];
}

/** The corpus secrets (plus `extra`) found in `payload`, by id; empty when clean. */
export function findSecrets(payload: string, extra: string[] = []): string[] {
  const all = [
    ...SECRETS.map((s) => ({ id: s.id, secret: s.secret })),
    ...extra.map((s) => ({ id: s, secret: s })),
  ];
  return all.filter((s) => spellings(s.secret).some((v) => payload.includes(v))).map((s) => s.id);
}

/** Throws, naming the leaked secrets, when `payload` contains any corpus secret (or one of `extra`). */
export function assertNoSecrets(payload: string, extra: string[] = []): void {
  const leaked = findSecrets(payload, extra);
  if (leaked.length) throw new Error(`payload leaks ${leaked.length} secret(s): ${leaked.join(', ')}`);
}
