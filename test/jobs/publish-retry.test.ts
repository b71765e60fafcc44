/**
 * The investigate processor when Slack fails (issue 13 item 7) and when Redis loses the incident mid-run
 * (item 8): real Redis (db 9, a unique prefix), fake Slack, the processor called the way BullMQ calls it.
 */
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { answerList } from '../../src/bot/listeners/heal-command.ts';
import { incidentId } from '../../src/core/incident.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import { createInvestigateProcessor, type Steps } from '../../src/jobs/processor.ts';
import { SlackPublisher } from '../../src/report/publisher.ts';
import { type FakeSlack, startFakeSlack } from '../support/fakeSlack.ts';
import {
  cleanPrefix,
  countingSteps,
  jobData,
  REDIS_URL,
  silentLog,
  TARGET,
  testConfig,
  uniquePrefix,
} from './helpers.ts';

const redis = new Redis(REDIS_URL, { db: 9, maxRetriesPerRequest: null });
const prefix = uniquePrefix('publish-retry');
const store = new IncidentStore(redis, prefix);
const id = incidentId(TARGET);
let slack: FakeSlack;
let publisher: SlackPublisher;

/** A BullMQ job as the processor sees it, recording moveToDelayed instead of moving anything. */
function job(attemptsMade = 0) {
  const delays: number[] = [];
  const j = {
    id,
    data: jobData(id),
    attemptsMade,
    attemptsStarted: attemptsMade + delays.length + 1,
    opts: { attempts: 5 },
    moveToDelayed: async (ts: number) => {
      delays.push(ts - Date.now());
    },
  };
  return { job: j as unknown as Job, delays };
}

const run = (steps: Steps, env: Record<string, string> = {}) =>
  createInvestigateProcessor({
    config: testConfig(prefix, {
      HEAL_PUBLISH_BACKOFF_MS: '1000',
      HEAL_PUBLISH_BACKOFF_MAX_MS: '3000',
      HEAL_PUBLISH_RETRY_MS: '60000',
      ...env,
    }),
    log: silentLog,
    redis,
    incidents: store,
    publisher,
    steps,
  });

const slackDown = () =>
  slack.injectFaults((method) =>
    method === 'auth.test' ? undefined : { kind: 'server_error', status: 503 },
  );

describe('investigate processor: Slack down, Redis losing the incident (real Redis, fake Slack)', () => {
  beforeAll(async () => {
    slack = await startFakeSlack();
    // As the worker builds it for investigations: no WebClient retries (publishing retries on its own).
    publisher = new SlackPublisher({
      token: 'xoxb-test',
      slackApiUrl: slack.apiUrl,
      postIntervalMs: 0,
      retryConfig: { retries: 0 },
    });
  });
  beforeEach(async () => {
    await cleanPrefix(redis, prefix);
    slack.calls.length = 0;
    slack.injectFaults(undefined);
  });
  afterAll(async () => {
    await cleanPrefix(redis, prefix);
    await redis.quit();
    await slack.close();
  });

  it('keeps the report and defers publishing (no attempt spent) while Slack is down, then posts once', async () => {
    const { steps, calls } = countingSteps();
    const process = run(steps);
    slackDown();
    const first = job();
    await expect(process(first.job, 'token')).rejects.toBeInstanceOf(DelayedError);
    expect(first.delays).toHaveLength(1);
    expect(first.delays[0]).toBeGreaterThan(900);
    expect(first.delays[0]).toBeLessThanOrEqual(1000);
    let rec = await store.get(id);
    expect(rec?.checkpoint).toBe('diagnosed');
    expect(rec?.report?.rootCause?.category).toBe('spark.data_skew');
    expect(rec?.slackWait).toMatchObject({ attempts: 1, reason: 'http_503' });
    const since = rec?.slackWait?.since;

    // Still down: the same wait, twice the delay; nothing is investigated again.
    const second = job();
    await expect(process(second.job, 'token')).rejects.toBeInstanceOf(DelayedError);
    expect(second.delays[0]).toBeGreaterThan(1900);
    rec = await store.get(id);
    expect(rec?.slackWait).toMatchObject({ attempts: 2, since });

    slack.injectFaults(undefined);
    expect(await process(job().job, 'token')).toBe('diagnosed');
    expect(calls).toEqual({ pin: 1, collect: 1, diagnose: 1 });
    rec = await store.get(id);
    expect(rec?.checkpoint).toBe('published');
    expect(rec?.slackWait).toBeUndefined();
    const ok = slack.callsOf('chat.postMessage').filter((c) => c.status === 200 && c.response.ok);
    expect(ok.filter((c) => c.body.thread_ts === undefined)).toHaveLength(1);
    expect(ok.filter((c) => c.body.thread_ts !== undefined)).toHaveLength(rec?.repliesPosted ?? -1);
  });

  it('shows the wait in /heal status', async () => {
    const { steps } = countingSteps();
    slackDown();
    await expect(run(steps)(job().job, 'token')).rejects.toBeInstanceOf(DelayedError);
    const reply = await answerList({ incidents: store } as never, { kind: 'status' });
    expect(JSON.stringify(reply)).toMatch(/waiting for Slack since/);
  });

  it('marks the incident failed once Slack failed for the whole budget', async () => {
    const { steps } = countingSteps();
    slackDown();
    const err = await run(steps, { HEAL_PUBLISH_RETRY_MS: '0' })(job().job, 'token').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    const rec = await store.get(id);
    expect(rec?.checkpoint).toBe('failed');
    expect(rec?.error).toMatch(/Slack could not be reached/);
  });

  it('publishes the thread without its report file when only the file upload kept failing', async () => {
    const { steps } = countingSteps();
    slack.injectFaults((method) =>
      method.startsWith('files.') ? { kind: 'server_error', status: 503 } : undefined,
    );
    expect(await run(steps, { HEAL_PUBLISH_RETRY_MS: '0' })(job().job, 'token')).toBe('diagnosed');
    const rec = await store.get(id);
    expect(rec?.checkpoint).toBe('published');
    expect(JSON.stringify(slack.messages.get(String(rec?.parentTs))?.blocks)).toMatch(/confidence 85%/);
  });

  it('a run that lost its job lock (another run took over) stops before posting anything more', async () => {
    const { steps } = countingSteps();
    let extends_ = 0;
    const j = { ...job().job, extendLock: async () => (++extends_ <= 3 ? 1 : 0) } as unknown as Job;
    const err = await run(steps)(j, 'token').catch((e: unknown) => e);
    expect((err as Error).name).toBe('JobLockLostError');
    const rec = await store.get(id);
    expect(rec?.checkpoint).not.toBe('failed');
    expect(rec?.checkpoint).not.toBe('published');
    const posts = slack.callsOf('chat.postMessage').filter((c) => c.response.ok);
    expect(posts.filter((c) => c.body.thread_ts !== undefined)).toHaveLength(0);
  });

  it('stops a job whose record vanished mid-run, without writing a partial record', async () => {
    const { steps } = countingSteps();
    const collect = steps.collect;
    steps.collect = async (pin, ctx) => {
      await redis.del(store.key(id)); // Redis lost the incident while evidence was being collected
      return collect(pin, ctx);
    };
    const err = await run(steps)(job().job, 'token').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(String(err)).toMatch(/no longer stored/);
    expect(await redis.exists(store.key(id))).toBe(0);
    // A retry of that job finds no record and stops too (it does not re-create one).
    const retry = await run(countingSteps().steps)(job(1).job, 'token').catch((e: unknown) => e);
    expect(retry).toBeInstanceOf(UnrecoverableError);
    expect(await redis.exists(store.key(id))).toBe(0);
  });
});
