import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentId } from '../../src/core/incident.ts';
import { eventCallbackBody, sendSigned, slashCommandBody } from '../support/fakeSlack.ts';
import { waitFor } from './procs.ts';
import {
  ALERT_CHANNEL,
  APP_ID,
  parentPosts,
  SECRET,
  type Stack,
  startStack,
  waitPublished,
} from './stack.ts';

const CHANNEL = 'C2147483705';
const ROOT_CAUSE = /spark\.data_skew · confidence \d+%/;

const heal = (stack: Stack, text: string, user = 'U2147483697') =>
  sendSigned(`${stack.base}/slack/events`, slashCommandBody(text, { channel: CHANNEL, user }), {
    secret: SECRET,
    contentType: 'form',
  });

const ackText = (res: { json: unknown }) => JSON.stringify(res.json);

/** The final state (after chat.update) of the message at `ts`, as text. */
const messageText = (stack: Stack, ts: string) => JSON.stringify(stack.slack.messages.get(ts) ?? {});

describe('web + worker as separate processes against a fake Slack (/heal)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 45_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('serves /healthz, /metrics and the url_verification challenge', async () => {
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
    const challenge = '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P';
    const body = JSON.stringify({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge, type: 'url_verification' });
    const res = await sendSigned(`${stack.base}/slack/events`, body, { secret: SECRET, contentType: 'json' });
    expect(res.status).toBe(200);
    expect(res.text).toContain(challenge);
  });

  it('answers a forged signature with 401 and starts nothing', async () => {
    const res = await sendSigned(`${stack.base}/slack/events`, slashCommandBody(`spark ${APP_ID}`), {
      secret: 'not-the-signing-secret',
      contentType: 'form',
    });
    expect(res.status).toBe(401);
    expect(stack.slack.callsOf('chat.postMessage')).toHaveLength(0);
  });

  it('answers help, bad targets and a missing Spark id ephemerally, without a stack trace', async () => {
    const help = await heal(stack, 'help');
    expect(help.status).toBe(200);
    expect(ackText(help)).toContain('ephemeral');
    expect(ackText(help)).toContain('spark');
    const bad = await heal(stack, 'sparkk app-1');
    expect(ackText(bad)).toContain('sparkk');
    expect(ackText(bad)).toContain('Example');
    expect(ackText(bad)).not.toMatch(/\bat .+\.ts:\d+/);
    const noId = await heal(stack, 'spark');
    expect(ackText(noId)).toMatch(/application id/i);
    const dbtCloud = await heal(stack, 'dbt cloud latest');
    expect(ackText(dbtCloud)).toMatch(/numeric run id/i);
  });

  it('acks /heal in < 3 s, posts one thread parent with the root cause; a duplicate joins it', async () => {
    const first = await heal(stack, `spark ${APP_ID}`);
    console.log(`/heal ack latency: ${first.ms.toFixed(1)} ms`);
    expect(first.status).toBe(200);
    expect(first.ms).toBeLessThan(3_000);
    expect(ackText(first)).toMatch(/inc_[0-9a-f]{16}/);
    const id = ackText(first).match(/inc_[0-9a-f]{16}/)?.[0];

    const dup = await heal(stack, `spark ${APP_ID}`, 'U0SECOND');
    console.log(`duplicate /heal ack latency: ${dup.ms.toFixed(1)} ms`);
    expect(ackText(dup)).toContain('already being investigated');
    expect(ackText(dup)).toContain(String(id));

    const rec = await waitPublished(stack, String(id));
    const parentTs = parentPosts(stack.slack, CHANNEL)[0]?.response.ts;
    expect(parentTs).toBe(rec.parentTs);
    expect(messageText(stack, String(parentTs))).toMatch(ROOT_CAUSE);
    const inThread = stack.slack.callsOf('chat.postMessage').filter((c) => c.body.thread_ts === parentTs);
    // The duplicate /heal is grouped: a (debounced) counter message in the thread, besides the evidence.
    const counters = inThread.filter((c) => /alerts grouped into/.test(String(c.body.text)));
    expect(counters.length).toBeLessThanOrEqual(1);
    const replies = inThread.filter((c) => !counters.includes(c));
    expect(replies.length).toBeGreaterThan(0);
    expect(replies).toHaveLength(Number(rec.repliesPosted));

    const late = await heal(stack, `spark ${APP_ID}`, 'U0THIRD');
    expect(ackText(late)).toContain(`p${String(parentTs).replace('.', '')}`);
    expect(parentPosts(stack.slack, CHANNEL)).toHaveLength(1);
    expect(stack.slack.calls.filter((c) => c.response.ok !== true)).toEqual([]);
    expect(stack.slack.callsOf('auth.test').length).toBeGreaterThan(0);

    const metrics = await (await fetch(`${stack.base}/metrics`)).text();
    expect(metrics).toMatch(/heal_investigations_total\{outcome="diagnosed"\} 1/);
    expect(metrics).toMatch(/heal_acks_total\{kind="investigate"\} 1/);
    expect(metrics).toContain('heal_ack_latency_seconds_bucket');
  }, 60_000);

  it('answers /heal digest at once, then posts the last 7 days ephemerally', async () => {
    const res = await heal(stack, 'digest');
    expect(ackText(res)).toContain('Reading the last 7 days');
    const digest = await waitFor('the digest', () =>
      stack.slack
        .callsOf('chat.postEphemeral')
        .find((c) => /Heal weekly digest/.test(String(c.body.text)) && c.body.user === 'U2147483697'),
    );
    expect(String(digest.body.text)).toMatch(/1 incident, 1 diagnosed/);
    expect(JSON.stringify(digest.body.blocks)).toContain('spark.data_skew');
  });
});

describe('web + worker: alert-triggered threads', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 45_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('investigates a Spark URL in an alert in its thread; a retried delivery starts nothing new', async () => {
    const alertTs = '1763605200.000100';
    const url = `${stack.fixture.base}/history/${APP_ID}/jobs/?a=1&amp;b=2`;
    const event = {
      type: 'message',
      subtype: 'bot_message',
      text: `:rotating_light: *orders_enrichment failed* &lt;prod&gt; <${url}|Spark UI>`,
      username: 'Alertmanager',
      bot_id: 'B0ALERTBOT',
      ts: alertTs,
      channel: ALERT_CHANNEL,
      event_ts: alertTs,
      channel_type: 'channel',
    };
    const body = eventCallbackBody(event, 'Ev0E2EALERT1');
    const url1 = `${stack.base}/slack/events`;
    const first = await sendSigned(url1, body, { secret: SECRET, contentType: 'json' });
    expect(first.status).toBe(200);
    const retry = await sendSigned(url1, body, {
      secret: SECRET,
      contentType: 'json',
      headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    });
    expect(retry.status).toBe(200);

    const id = incidentId({ platform: 'spark', appId: APP_ID });
    const rec = await waitPublished(stack, id);
    expect(rec.threadTs).toBe(alertTs);
    const parentTs = parentPosts(stack.slack, ALERT_CHANNEL, alertTs)[0]?.response.ts;
    expect(parentTs).toBe(rec.parentTs);
    expect(messageText(stack, String(parentTs))).toMatch(ROOT_CAUSE);
    const posts = stack.slack.callsOf('chat.postMessage');
    expect(posts.every((p) => p.body.channel === ALERT_CHANNEL && p.body.thread_ts === alertTs)).toBe(true);
    // One investigation: one parent (the only message ever updated) plus its evidence replies.
    expect(new Set(stack.slack.callsOf('chat.update').map((u) => u.body.ts))).toEqual(new Set([parentTs]));
    expect(posts).toHaveLength(1 + Number(rec.repliesPosted));
    expect(await stack.redis.keys(`${stack.prefix}:incident:*`)).toHaveLength(1);
    expect(stack.web?.output()).toContain('already handled (Slack retry)');
    expect(stack.slack.calls.filter((c) => c.response.ok !== true)).toEqual([]);

    const other = eventCallbackBody(
      { ...event, ts: '1763605201.000200', channel: 'C0NOTALERTS' },
      'Ev0E2EOTHER',
    );
    await sendSigned(url1, other, { secret: SECRET, contentType: 'json' });
    await new Promise((r) => setTimeout(r, 500));
    expect(
      stack.slack.callsOf('chat.postMessage').filter((p) => p.body.channel === 'C0NOTALERTS'),
    ).toHaveLength(0);
  }, 60_000);
});
