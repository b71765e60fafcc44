import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendSigned, slashCommandBody } from '../support/fakeSlack.ts';
import { stop, waitFor } from './procs.ts';
import { APP_ID, parentPosts, SECRET, type Stack, startStack, waitPublished } from './stack.ts';

const CHANNEL = 'C0CRASHTEST';

describe('worker SIGKILLed mid-investigation', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Every History Server answer takes 250 ms, so the kill lands between checkpoints.
    stack = await startStack({ delayMs: 250, lockMs: 3_000 });
  }, 45_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('resumes after a restart from the last checkpoint: finishes once, no duplicate Slack posts', async () => {
    const body = slashCommandBody(`spark ${APP_ID}`, { channel: CHANNEL });
    const ack = await sendSigned(`${stack.base}/slack/events`, body, { secret: SECRET, contentType: 'form' });
    expect(ack.status).toBe(200);
    const id = JSON.stringify(ack.json).match(/inc_[0-9a-f]{16}/)?.[0] ?? '';
    const key = `${stack.prefix}:incident:${id}`;

    const at = await waitFor('the pinned checkpoint', async () => {
      const cp = await stack.redis.hget(key, 'checkpoint');
      return cp === 'pinned' || cp === 'collected' ? cp : undefined;
    });
    const first = stack.worker;
    first?.child.kill('SIGKILL');
    await first?.exited;
    const requestsBeforeRestart = stack.fixture.requests.length;
    console.log(
      `worker SIGKILLed at checkpoint '${at}' after ${requestsBeforeRestart} History Server requests`,
    );
    expect(await stack.redis.hget(key, 'checkpoint')).not.toBe('published');
    expect(parentPosts(stack.slack, CHANNEL)).toHaveLength(1);

    const t0 = Date.now();
    const second = await stack.startWorker();
    const rec = await waitPublished(stack, id, 45_000);
    console.log(`restarted worker finished the job ${((Date.now() - t0) / 1000).toFixed(1)} s after restart`);

    const parents = parentPosts(stack.slack, CHANNEL);
    expect(parents).toHaveLength(1);
    expect(parents[0]?.response.ts).toBe(rec.parentTs);
    const replies = stack.slack.callsOf('chat.postMessage').filter((c) => c.body.thread_ts === rec.parentTs);
    expect(replies).toHaveLength(Number(rec.repliesPosted));
    const replyTexts = replies.map((r) => JSON.stringify(r.body.blocks));
    expect(new Set(replyTexts).size).toBe(replyTexts.length);
    expect(JSON.stringify(stack.slack.messages.get(String(rec.parentTs)))).toMatch(
      /spark\.data_skew · confidence \d+%/,
    );
    expect(stack.slack.calls.filter((c) => c.response.ok !== true)).toEqual([]);
    // The restarted worker ran the job to completion exactly once (BullMQ logs completion just after the
    // job's last checkpoint, so wait for the line).
    await waitFor(
      'the completion log line',
      () => second.output().includes('investigate job completed') || undefined,
    );
    expect(second.output().match(/investigate job completed/g)).toHaveLength(1);

    const job = await waitFor('job state', async () => {
      const state = await stack.redis.hget(`${stack.prefix}:investigate:${id}`, 'finishedOn');
      return state ?? undefined;
    });
    expect(Number(job)).toBeGreaterThan(0);

    // Graceful shutdown: SIGTERM stops the worker cleanly within a few seconds.
    const t1 = Date.now();
    expect(await stop(second, 8_000)).toBe(0);
    console.log(`worker stopped on SIGTERM in ${Date.now() - t1} ms`);
  }, 60_000);
});
