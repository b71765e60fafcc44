import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlackPublisher } from '../../src/report/publisher.ts';
import { uploadReportOnce } from '../../src/report/upload.ts';
import { type FakeSlack, startFakeSlack } from '../support/fakeSlack.ts';
import { skewReport } from './fixtures.ts';

const TOKEN = 'xoxb-test-token-0000000000';
const redis = new Redis('redis://127.0.0.1:6379/9');
const prefix = `healtest-${randomUUID().slice(0, 8)}`;
let slack: FakeSlack;

const text = (t: string) => ({ text: t, blocks: [] });
const publisher = (o: Partial<ConstructorParameters<typeof SlackPublisher>[0]> = {}) =>
  new SlackPublisher({ token: TOKEN, slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, ...o });

beforeEach(async () => {
  slack = await startFakeSlack();
});
afterEach(() => slack.close());
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('SlackPublisher against Slack-like rate limits', () => {
  it('a 429 on one channel waits its Retry-After there and does not delay another channel', async () => {
    const stats = slack.enforceRateLimits({ postPerChannel: { perSecond: 1, burst: 1 } });
    const pub = publisher({ postIntervalMs: 0 });
    await pub.postMessage('CA', text('a1'));
    const a2 = pub.postMessage('CA', text('a2'));
    await new Promise((r) => setTimeout(r, 50));
    await pub.postMessage('CB', text('b1'));
    await a2;
    const order = slack.calls.map((c) => `${c.status}:${c.body.text}`);
    expect(order).toEqual(['200:a1', '429:a2', '200:b1', '200:a2']);
    expect(slack.calls[1]?.retryAfter).toBe(1);
    expect(stats).toMatchObject({ sent429: 1, early: 0 });
    expect(pub.stats).toEqual({ rateLimited: 1, recovered: 1 });
  });

  it('coalesces queued updates of one message: the latest state wins, every caller resolves', async () => {
    const pub = publisher({ updateIntervalMs: 400 });
    const ts = await pub.postMessage('C1', text('queued'));
    await pub.update('C1', ts, text('pinned'));
    // Queued behind the 400 ms chat.update pacing: only the newest of these is sent.
    const states = ['collected 1/3', 'collected 2/3', 'collected 3/3', 'diagnosed'];
    await Promise.all(states.map((s) => pub.update('C1', ts, text(s))));
    const sent = slack.callsOf('chat.update').map((c) => c.body.text);
    expect(sent).toEqual(['pinned', 'diagnosed']);
    expect(slack.messages.get(ts)?.text).toBe('diagnosed');
  });

  it('paces one channel across two publishers (two worker processes) sharing Redis: no 429', async () => {
    const stats = slack.enforceRateLimits({ postPerChannel: { perSecond: 1, burst: 2 } });
    const shared = { client: redis, prefix };
    const [p1, p2] = [publisher({ redis: shared }), publisher({ redis: shared })];
    const thread = await p1.postMessage('CSHARED', text('parent'));
    const posts = [1, 2, 3].flatMap((i) => [
      p1.postMessage('CSHARED', text(`p1-${i}`), thread),
      p2.postMessage('CSHARED', text(`p2-${i}`), thread),
    ]);
    await Promise.all(posts);
    expect(stats.sent429).toBe(0);
    const seq = (who: string) =>
      slack
        .callsOf('chat.postMessage')
        .flatMap((c) => (String(c.body.text).startsWith(who) ? [c.body.text] : []));
    expect(seq('p1')).toEqual(['p1-1', 'p1-2', 'p1-3']);
    expect(seq('p2')).toEqual(['p2-1', 'p2-2', 'p2-3']);
  }, 20_000);

  it('uploads the Markdown report into the thread once, even when a run dies between upload and share', async () => {
    const pub = publisher();
    const report = skewReport();
    const ts = await pub.postMessage('C1', text('parent'));
    const target = { incidentId: `${report.id}-${randomUUID().slice(0, 6)}`, channel: 'C1', threadTs: ts };
    let crash = true;
    const flaky = {
      uploadFile: pub.uploadFile.bind(pub),
      shareUpload: async (...args: Parameters<SlackPublisher['shareUpload']>) => {
        if (crash) throw Object.assign(new Error('worker died'), { retryable: true });
        return pub.shareUpload(...args);
      },
    };
    await expect(uploadReportOnce({ redis, prefix, uploader: flaky }, target, report)).rejects.toThrow(
      'died',
    );
    crash = false;
    expect(await uploadReportOnce({ redis, prefix, uploader: flaky }, target, report)).toBe('shared');
    expect(await uploadReportOnce({ redis, prefix, uploader: pub }, target, report)).toBe('already_shared');
    expect(slack.callsOf('files.getUploadURLExternal')).toHaveLength(1);
    const [file] = [...slack.files.values()];
    expect(file?.shares).toEqual([{ channel: 'C1', thread_ts: ts }]);
    expect(file?.filename).toBe(`heal-${report.id}.md`);
    expect(file?.content).toContain('spark.data_skew');
    expect(file?.length).toBe(Buffer.byteLength(String(file?.content)));
  });

  it('leaves the report out (logged, not thrown) when Slack refuses it for good', async () => {
    const pub = publisher();
    const target = {
      incidentId: `inc_refused${randomUUID().slice(0, 6)}`,
      channel: 'C1',
      threadTs: '1.000001',
    };
    const refusing = {
      uploadFile: pub.uploadFile.bind(pub),
      shareUpload: pub.shareUpload.bind(pub),
    };
    // completeUploadExternal for a thread that does not exist is accepted by the fake, so refuse earlier:
    const noScope = {
      ...refusing,
      uploadFile: async () => Promise.reject(Object.assign(new Error('missing_scope'), { retryable: false })),
    };
    expect(await uploadReportOnce({ redis, prefix, uploader: noScope }, target, skewReport())).toBe(
      'not_shared',
    );
    expect(await uploadReportOnce({ redis, prefix, uploader: refusing }, target, skewReport())).toBe(
      'not_shared',
    );
    expect(slack.files.size).toBe(0);
  });
});
