import { UnrecoverableError } from 'bullmq';
import { errorMessage, PermanentError, TransientError } from '../core/errors.ts';

/** Slack errors carry `retryable` (SlackApiError); anything else with it is treated the same way. */
function isRetryableFlag(err: unknown): boolean | undefined {
  const r = (err as { retryable?: unknown } | null)?.retryable;
  return typeof r === 'boolean' ? r : undefined;
}

/** Maps an error to what BullMQ should do: retry with backoff, or stop (UnrecoverableError). */
export function classify(err: unknown): Error {
  if (err instanceof UnrecoverableError) return err;
  if (err instanceof PermanentError) return new UnrecoverableError(err.message);
  if (err instanceof TransientError) return err;
  const retryable = isRetryableFlag(err);
  if (retryable === false) return new UnrecoverableError(errorMessage(err));
  return err instanceof Error ? err : new Error(String(err));
}
