/**
 * Redis losing its data mid-flight (issue 13 item 8): a redis-server without any persistence is restarted
 * while investigations run, so every key (incidents, jobs, indexes) is gone when it comes back. Workers must
 * not rewrite partial incident records, no zod dump may reach Slack or an ack, `/heal` must ack within 3 s
 * while Redis is down, and a new `/heal` for the same run must start afresh and publish.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../e2e/procs.ts';
import { SECRET } from '../e2e/stack.ts';
import { type SignedResponse, sendSigned, slashCommandBody } from '../support/fakeSlack.ts';
import { type RedisServer, startRedisServer } from './redis.ts';
import { aliasIds, type ChaosStack, startChaosStack, threadProblems } from './stack.ts';

/** What a zod error's message looks like (issues as JSON, or zod 4's "Invalid input: expected …"). */
const ZOD_DUMP =
  /"code":\s*"(invalid_|custom|too_|unrecognized)|"path":\s*\[|Invalid input: expected|ZodError/;
/** The fields every claimed incident hash has; a hash without them is a partial record. */
const CLAIM_FIELDS = ['incidentId', 'target', 'channel', 'source', 'createdAt', 'checkpoint'];

function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Redis without persistence restarted mid-flight (all data lost)', () => {
  let redis: RedisServer;
  let stack: ChaosStack;
  const acks: SignedResponse[] = [];
  const command = async (text: string, channel: string) => {
    const body = slashCommandBody(text, { channel });
    const res = await sendSigned(`${stack.base}/slack/events`, body, { secret: SECRET, contentType: 'form' });
    acks.push(res);
    return res;
  };
  /** Every incident hash under the prefix (SCAN, so it works while workers write). */
  const incidentHashes = async () => {
    const out: Record<string, Record<string, string>> = {};
    let cursor = '0';
    do {
      const [next, keys] = await stack.redis.scan(
        cursor,
        'MATCH',
        `${stack.prefix}:incident:*`,
        'COUNT',
        500,
      );
      cursor = next;
      for (const k of keys) out[k] = await stack.redis.hgetall(k);
    } while (cursor !== '0');
    return out;
  };

  beforeAll(async () => {
    redis = await startRedisServer({ persist: false });
    // Every History Server answer takes 150 ms, so investigations are mid-flight when Redis goes.
    stack = await startChaosStack({ redisUrl: `redis://127.0.0.1:${redis.port}`, delayMs: 150, workers: 2 });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await redis?.destroy();
  });

  const apps = aliasIds(6, 7500);
  let ids: string[] = [];

  it('acks /heal within 3 s while Redis is down, saying the store is unreachable', async () => {
    ids = await Promise.all(apps.map((a, i) => stack.heal(a, `C0LOSS${i}`)));
    expect(ids.every(Boolean)).toBe(true);
    await waitFor(
      'an investigation mid-flight',
      async () => {
        const cps = await Promise.all(
          ids.map((id) => stack.redis.hget(`${stack.prefix}:incident:${id}`, 'checkpoint')),
        );
        return cps.some((c) => c === 'pinned' || c === 'collected');
      },
      30_000,
    );
    await redis.stop();
    try {
      // Slack's limit is 3 s; the ack must say the store is unreachable (and to retry).
      const down = await command(`spark ${aliasIds(1, 7590)[0]}`, 'C0LOSSDOWN');
      const downStatus = await command('status', 'C0LOSSDOWN');
      console.log(
        `redis down: /heal acked in ${down.ms.toFixed(0)} ms (${down.status}), /heal status in ${downStatus.ms.toFixed(0)} ms (${downStatus.status})`,
      );
      for (const ack of [down, downStatus]) {
        expect.soft(ack.status).toBe(200);
        expect.soft(ack.ms).toBeLessThan(3_000);
        expect.soft(ack.text).toMatch(/store[^"]*unreachable/i);
      }
    } finally {
      await redis.start(); // empty: no AOF, no snapshot
    }
  }, 90_000);

  it('leaves no partial record, shows no zod dump, and a new /heal of the same run publishes', async () => {
    expect(ids.every(Boolean)).toBe(true);
    expect(redis.up()).toBe(true);
    // Let the workers run into the loss; the store settles once nothing has changed for 3 s.
    let last = '';
    let quietSince = Date.now();
    await waitFor(
      'the store to settle after the loss',
      async () => {
        const now = JSON.stringify(await incidentHashes().catch(() => ({})));
        if (now !== last) [last, quietSince] = [now, Date.now()];
        return Date.now() - quietSince > 3_000;
      },
      40_000,
    );
    const partial = Object.entries(await incidentHashes())
      .filter(([, h]) => CLAIM_FIELDS.some((f) => h[f] === undefined))
      .map(([k, h]) => `${k}: ${Object.keys(h).join(',')}`);
    expect.soft(partial).toEqual([]);

    // The same runs asked again (new channels): each starts a fresh investigation that publishes.
    const again = await Promise.all(apps.map((a, i) => command(`spark ${a}`, `C0LOSSB${i}`)));
    for (const [i, ack] of again.entries()) {
      expect.soft(ack.ms).toBeLessThan(3_000);
      expect.soft(ack.text).toContain(ids[i] as string);
      expect.soft(ack.text).toMatch(/Investigating/);
    }
    const recs = [];
    for (const id of ids) recs.push(await stack.waitPublished(id, 90_000));
    expect(recs.map((r) => r.channel)).toEqual(apps.map((_, i) => `C0LOSSB${i}`));
    const problems = recs.flatMap((r) => threadProblems(stack.slack, r));
    if (problems.length) {
      const bad = new Set(problems.map((p) => p.split(':')[0]));
      const lines = [stack.web, ...stack.workers].flatMap((p, i) =>
        p
          .output()
          .split('\n')
          .filter((l) => [...bad].some((id) => l.includes(id as string)))
          .map((l) => `[${i}] ${l.slice(0, 300)}`),
      );
      console.log(lines.join('\n'));
    }
    expect(problems).toEqual([]);

    const status = await command('status', 'C0LOSSB0');
    expect(status.status).toBe(200);
    expect(status.text).toMatch(/open incident/);

    await sleep(500);
    const dumps = [...stack.slack.calls.flatMap((c) => strings(c.body)), ...acks.map((a) => a.text)].filter(
      (s) => ZOD_DUMP.test(s),
    );
    expect(dumps).toEqual([]);
    expect(stack.web.child.exitCode).toBeNull();
    expect(stack.workers.every((w) => w.child.exitCode === null)).toBe(true);
    const gone = stack.workers.flatMap((w) => w.output().match(/incident record gone[^\n]*/g) ?? []);
    console.log(
      `redis data loss: ${ids.length} re-asked and published; ${gone.length} jobs stopped on a vanished record`,
    );
  }, 150_000);
});
