/** A failure a retry cannot fix (bad target, unsupported platform, app not found). */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** A failure worth retrying with backoff (upstream 5xx, timeouts, connection refused). */
export class TransientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** ioredis' own errors while Redis is down, slow or loading (platform connection errors are not these). */
const STORE_DOWN =
  /Connection is closed|max retries per request|enableOfflineQueue|Stream isn't writeable|Command timed out|^LOADING |^CLUSTERDOWN /;

/**
 * A failure in words fit for Slack (an ephemeral reply or the thread): a schema error (zod's issue dump),
 * an internal store error or anything shaped like a data dump becomes a plain sentence; the details
 * belong in the logs, never in front of users. Other messages are kept, capped at 300 characters.
 */
export function publicReason(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  const message = errorMessage(err);
  if (name === 'ZodError' || name === '$ZodError' || /^\s*[[{]/.test(message))
    return 'Heal read data it could not make sense of (details are in its logs)';
  if (STORE_DOWN.test(message)) return "Heal's store (Redis) is unreachable";
  return message.length > 300 ? `${message.slice(0, 297)}…` : message;
}
