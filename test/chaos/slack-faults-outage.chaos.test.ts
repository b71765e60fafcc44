/**
 * A Slack outage longer than the whole old retry budget (issue 13 item 7). Before the fix an investigation
 * spent its 5 BullMQ attempts (2 s exponential backoff, each call retried 4 times by WebClient) on Slack and
 * was marked failed about a minute into an outage (measured with this test on that code: 58-64 s), and its
 * thread was never posted. Now the report stays checkpointed, publishing alone is retried with its own
 * backoff (short here, via HEAL_PUBLISH_BACKOFF_MS), `/heal status` says the incident waits for Slack, and
 * each thread is posted exactly once when Slack is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../e2e/procs.ts';
import { SECRET } from '../e2e/stack.ts';
import { sendSigned, slashCommandBody } from '../support/fakeSlack.ts';
import { aliasIds, type ChaosStack, startChaosStack, threadProblems } from './stack.ts';

/** Longer than the old code's worst case (5 × ~7.5 s of WebClient retries + 30 s of job backoff). */
const OUTAGE_MS = 75_000;

describe('Slack answering 503 / resetting connections for longer than the old retry budget', () => {
  let stack: ChaosStack;
  beforeAll(async () => {
    stack = await startChaosStack({
      workers: 1,
      env: {
        HEAL_PUBLISH_BACKOFF_MS: '500',
        HEAL_PUBLISH_BACKOFF_MAX_MS: '4000',
        HEAL_PUBLISH_RETRY_MS: String(10 * 60_000),
      },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  const status = async () => {
    const body = slashCommandBody('status', { channel: 'C0OUTSTATUS' });
    return sendSigned(`${stack.base}/slack/events`, body, { secret: SECRET, contentType: 'form' });
  };

  it('keeps every report, says it waits for Slack, then posts each thread exactly once, complete', async () => {
    let outageFrom: number | undefined;
    let n = 0;
    // The outage starts with the first evidence reply (a parent is up, its replies are not) and lasts
    // OUTAGE_MS: every Web API call gets a 503 or has its connection reset, alternately.
    stack.slack.injectFaults((method, body) => {
      if (method === 'auth.test') return undefined;
      if (outageFrom === undefined && method === 'chat.postMessage' && body.thread_ts !== undefined)
        outageFrom = Date.now();
      if (outageFrom === undefined || Date.now() - outageFrom > OUTAGE_MS) return undefined;
      return n++ % 2 ? { kind: 'server_error', status: 503 } : { kind: 'timeout', holdMs: 0 };
    });
    const ids = await Promise.all(aliasIds(3, 7800).map((a, i) => stack.heal(a, `C0OUT${i}`)));
    const from = await waitFor('the outage to begin', () => outageFrom, 60_000);
    // One investigation runs entirely during the outage: its parent cannot even be posted.
    ids.push(await stack.heal(aliasIds(1, 7810)[0] as string, 'C0OUTBLIND'));
    expect(ids.every(Boolean)).toBe(true);

    const failedAt: Record<string, number> = {};
    let waiting = '';
    while (Date.now() - from < OUTAGE_MS) {
      const ack = await status();
      if (/waiting for Slack/i.test(ack.text)) waiting = ack.text;
      for (const id of ids) {
        const cp = await stack.redis.hget(`${stack.prefix}:incident:${id}`, 'checkpoint');
        if (cp === 'failed' && failedAt[id] === undefined) failedAt[id] = (Date.now() - from) / 1000;
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
    const faults = stack.slack.calls.filter((c) => c.fault).length;
    console.log(
      `slack outage ${OUTAGE_MS / 1000} s: ${faults} faulted calls; marked failed during it (s): ${JSON.stringify(failedAt)}`,
    );
    expect.soft(failedAt).toEqual({});
    expect.soft(waiting).toMatch(/waiting for Slack/i);

    const recs = [];
    for (const id of ids) recs.push(await stack.waitPublished(id, 60_000));
    console.log(
      `slack back: published ${((Date.now() - from - OUTAGE_MS) / 1000).toFixed(1)} s after the outage`,
    );
    expect(recs.flatMap((r) => threadProblems(stack.slack, r))).toEqual([]);
    for (const rec of recs) {
      const parent = stack.slack.messages.get(String(rec.parentTs));
      expect(JSON.stringify(parent?.blocks)).toMatch(/confidence \d+%/);
      const shares = [...stack.slack.files.values()].flatMap((f) => f.shares);
      expect(shares.filter((s) => s.thread_ts === rec.parentTs)).toHaveLength(1);
    }
    expect(faults).toBeGreaterThan(20);
  }, 200_000);
});
