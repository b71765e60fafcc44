/**
 * Slack drops a slash command's ack after 3 s, and an ioredis command sent while Redis is down only queues
 * until it reconnects (up to its retry limit), so an ack must never wait on Redis unbounded (issue 13
 * item 8). Work against the store before an ack goes through {@link withinAck}.
 */
import type { IncidentStore } from '../jobs/incidents.ts';
import { fitMessage } from '../report/limits.ts';
import { section } from '../report/mrkdwn.ts';
import type { SlackMessage } from '../report/types.ts';

/**
 * How long an ack waits on Redis. Slack's 3 s also cover HTTP, Bolt and the HTTP receiver's replay claim
 * (src/bot/receiver.ts, which waits on the same Redis first): together they must stay under 3 s.
 */
export const STORE_ACK_TIMEOUT_MS = 1_500;

/** The ephemeral answer when Heal's store cannot be reached in time. */
export function renderStoreUnreachable(): SlackMessage {
  const text =
    ":warning: Heal's store (Redis) is unreachable right now, so Heal cannot take this request. Please try again in a minute.";
  return fitMessage({ text, blocks: [section(text, 'heal_store_unreachable')] });
}

/** What {@link withinAck} got: the work's value, or none in time (`late`: the work, if it was started). */
export type Bounded<T> = { ok: true; value: T } | { ok: false; late?: Promise<T> };

/**
 * Runs `work` within an ack's time: not at all when Redis is disconnected now (`reachable()` false: its
 * commands would only queue), and for at most `ms` otherwise. A rejection of `work` in time rejects. When
 * `work` outlasts `ms`, `late` is the work still under way: a command Redis answers late may still have
 * taken effect (e.g. a claim), and its caller must finish what it started.
 */
export async function withinAck<T>(
  store: Pick<IncidentStore, 'reachable'>,
  work: () => Promise<T>,
  ms = STORE_ACK_TIMEOUT_MS,
): Promise<Bounded<T>> {
  if (!store.reachable()) return { ok: false };
  const running = work();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    const first = await Promise.race([running.then((value) => ({ value })), timeout]);
    if (first === 'timeout') {
      running.catch(() => undefined); // the caller may ignore `late`; its failure is not unhandled
      return { ok: false, late: running };
    }
    return { ok: true, value: first.value };
  } finally {
    clearTimeout(timer);
  }
}
