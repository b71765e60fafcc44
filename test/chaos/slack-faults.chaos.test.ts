import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackFault } from '../support/fakeSlack.ts';
import { aliasIds, type ChaosStack, startChaosStack, threadProblems } from './stack.ts';

describe('Slack answering 429 / 500 / timeouts in bursts', () => {
  let stack: ChaosStack;
  beforeAll(async () => {
    stack = await startChaosStack({ workers: 1 });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('delivers every message, in order, exactly once', async () => {
    let n = 0;
    let timeouts = 0;
    // Bursts: calls 3-5 of every 12 fail (500, 429, 503); one call in the run hangs past the client timeout.
    stack.slack.injectFaults((method): SlackFault | undefined => {
      if (method === 'auth.test') return undefined;
      const i = n++ % 12;
      if (n === 20 && timeouts++ === 0) return { kind: 'timeout', holdMs: 12_000 };
      if (i === 3) return { kind: 'server_error', status: 500 };
      if (i === 4) return { kind: 'ratelimited', retryAfter: 1 };
      if (i === 5) return { kind: 'server_error', status: 503 };
      return undefined;
    });
    const ids = await Promise.all(aliasIds(3, 7700).map((a, i) => stack.heal(a, `C0FAULT${i}`)));
    expect(ids.every(Boolean)).toBe(true);
    const recs = [];
    for (const id of ids) recs.push(await stack.waitPublished(id, 90_000));
    const faults = stack.slack.calls.filter((c) => c.fault);
    const byKind: Record<string, number> = {};
    for (const c of faults) byKind[String(c.fault)] = (byKind[String(c.fault)] ?? 0) + 1;
    console.log(
      `slack faults: ${faults.length} injected ${JSON.stringify(byKind)}, ${recs.length} published`,
    );
    expect(faults.length).toBeGreaterThan(5);
    expect(faults.some((c) => c.fault === 'timeout')).toBe(true);
    expect(recs.flatMap((r) => threadProblems(stack.slack, r))).toEqual([]);
  }, 150_000);
});
