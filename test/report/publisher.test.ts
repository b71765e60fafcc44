import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderEvidenceReplies, renderParent } from '../../src/report/blocks.ts';
import { SlackApiError, SlackPublisher } from '../../src/report/publisher.ts';
import { startFakeSlack } from '../support/fakeSlack.ts';
import { hugeReport, skewReport } from './fixtures.ts';
import { startScriptedSlack } from './scriptedSlack.ts';

const TOKEN = 'xoxb-test-token-0000000000';
const FAST_RETRY = { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 };

let slack: Awaited<ReturnType<typeof startScriptedSlack>>;
let pub: SlackPublisher;

beforeEach(async () => {
  slack = await startScriptedSlack();
  pub = new SlackPublisher({
    token: TOKEN,
    slackApiUrl: slack.apiUrl,
    retryConfig: FAST_RETRY,
    postIntervalMs: 0,
  });
});
afterEach(() => slack.close());

function parentOf(report = skewReport()) {
  return renderParent({ incidentId: report.id, target: report.target, phase: 'diagnosed', report });
}

async function rejection(p: Promise<unknown>): Promise<SlackApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SlackApiError);
  return err as SlackApiError;
}

describe('SlackPublisher', () => {
  it('posts a thread parent and threaded replies with the bot token and returns the ts', async () => {
    const ts = await pub.postMessage('C1H9RESGL', parentOf());
    expect(ts).toBe('1503435956.000001');
    const replyTs = await pub.postMessage('C1H9RESGL', { text: 'reply', blocks: [] }, ts);
    expect(replyTs).toBe('1503435956.000002');
    const [parent, reply] = slack.callsOf('chat.postMessage');
    expect(parent?.auth).toBe(`Bearer ${TOKEN}`);
    expect(parent?.params.blocks).toEqual(parentOf().blocks);
    expect(parent?.params.unfurl_links).toBe('false');
    expect(reply?.params.thread_ts).toBe(ts);
  });

  it('fits an oversized message before sending so Slack accepts it', async () => {
    const msg = {
      text: 'x'.repeat(50_000),
      blocks: Array.from({ length: 70 }, (_, i) => ({ type: 'divider', block_id: `d${i}` })),
    };
    await pub.postMessage('C1', msg);
    const sent = slack.callsOf('chat.postMessage')[0]?.params ?? {};
    expect(sent.blocks).toHaveLength(50);
    expect(String(sent.text).length).toBeLessThanOrEqual(3000);
  });

  it('honours a 429 with Retry-After and retries the call', async () => {
    slack.script('chat.postMessage', {
      status: 429,
      headers: { 'retry-after': '1' },
      body: { ok: false, error: 'ratelimited' },
    });
    const ts = await pub.postMessage('C1', { text: 'hello', blocks: [] });
    expect(ts).toMatch(/^1503435956\./);
    expect(slack.callsOf('chat.postMessage')).toHaveLength(2);
  });

  it('throws a non-retryable SlackApiError for channel_not_found, without retrying', async () => {
    slack.script('chat.postMessage', { body: { ok: false, error: 'channel_not_found' } });
    const err = await rejection(pub.postMessage('CGONE', { text: 'hello', blocks: [] }));
    expect(err).toMatchObject({ code: 'channel_not_found', retryable: false, method: 'chat.postMessage' });
    expect(slack.callsOf('chat.postMessage')).toHaveLength(1);
  });

  it('classifies ratelimited bodies, 5xx and network failures as retryable', async () => {
    slack.script('chat.update', { body: { ok: false, error: 'ratelimited' } });
    expect(await rejection(pub.update('C1', '1.1', { text: 'x', blocks: [] }))).toMatchObject({
      code: 'ratelimited',
      retryable: true,
    });
    const fiveHundred = { status: 503, body: { ok: false, error: 'service_unavailable' } };
    slack.script('chat.update', fiveHundred, fiveHundred, fiveHundred);
    expect(await rejection(pub.update('C1', '1.1', { text: 'x', blocks: [] }))).toMatchObject({
      code: 'http_503',
      retryable: true,
    });
    expect(slack.callsOf('chat.update')).toHaveLength(4);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    const offline = new SlackPublisher({
      token: TOKEN,
      slackApiUrl: `http://127.0.0.1:${port}/api/`,
      retryConfig: { retries: 0 },
      postIntervalMs: 0,
    });
    expect(await rejection(offline.postMessage('C1', { text: 'x', blocks: [] }))).toMatchObject({
      code: 'request_error',
      retryable: true,
    });
  });

  it('rejects an ok response without a ts, and invalid_auth, as not retryable', async () => {
    slack.script('chat.postMessage', { body: { ok: true } }, { body: { ok: false, error: 'invalid_auth' } });
    expect(await rejection(pub.postMessage('C1', { text: 'x', blocks: [] }))).toMatchObject({
      code: 'invalid_response',
      retryable: false,
    });
    expect(await rejection(pub.postMessage('C1', { text: 'x', blocks: [] }))).toMatchObject({
      code: 'invalid_auth',
      retryable: false,
    });
  });

  it('updates in place, posts ephemeral text and gets permalinks (undefined when Slack cannot)', async () => {
    await pub.update('C1', '1503435956.000009', parentOf());
    expect(slack.callsOf('chat.update')[0]?.params).toMatchObject({ channel: 'C1', ts: '1503435956.000009' });
    await pub.postEphemeral('C1', 'U1', 'Investigating… (inc_7k2m9q)', '1503435956.000009');
    expect(slack.callsOf('chat.postEphemeral')[0]?.params).toMatchObject({
      user: 'U1',
      text: 'Investigating… (inc_7k2m9q)',
      thread_ts: '1503435956.000009',
    });
    expect(await pub.permalink('C1', '1503435956.000009')).toBe(
      'https://ghostbusters.slack.com/archives/C1/p1503435956000009',
    );
    slack.script('chat.getPermalink', { body: { ok: false, error: 'message_not_found' } });
    expect(await pub.permalink('C1', '9.9')).toBeUndefined();
  });

  it('keeps the order of threaded replies posted concurrently to one channel', async () => {
    const replies = renderEvidenceReplies(hugeReport());
    await Promise.all(replies.map((r) => pub.postMessage('C1', r, '1.000001')));
    expect(slack.callsOf('chat.postMessage').map((c) => c.params.text)).toEqual(replies.map((r) => r.text));
  });

  it("is accepted by the project's fake Slack for a whole thread", async () => {
    const fake = await startFakeSlack();
    try {
      const p = new SlackPublisher({
        token: TOKEN,
        slackApiUrl: fake.apiUrl,
        retryConfig: FAST_RETRY,
        postIntervalMs: 0,
      });
      const report = hugeReport();
      const ts = await p.postMessage(
        'C1',
        renderParent({ incidentId: report.id, target: report.target, phase: 'queued' }),
      );
      for (const r of renderEvidenceReplies(report)) await p.postMessage('C1', r, ts);
      await p.update('C1', ts, parentOf(report));
      expect(fake.calls.filter((c) => c.response.ok !== true)).toEqual([]);
      expect(fake.messages.get(ts)?.blocks.length).toBeGreaterThan(5);
    } finally {
      await fake.close();
    }
  });
});
