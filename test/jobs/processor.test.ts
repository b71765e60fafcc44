import { UnrecoverableError } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { incidentId } from '../../src/core/incident.ts';
import { noData, upstreamError } from '../../src/core/upstream.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import { metricsKey } from '../../src/jobs/metrics.ts';
import {
  createInvestigateProcessor,
  failStalledInvestigation,
  type Steps,
} from '../../src/jobs/processor.ts';
import { threadStateOf } from '../../src/jobs/views.ts';
import { renderParent } from '../../src/report/blocks.ts';
import { SlackPublisher } from '../../src/report/publisher.ts';
import { type FakeSlack, startFakeSlack } from '../support/fakeSlack.ts';
import {
  cleanPrefix,
  countingSteps,
  fakeJob,
  jobData,
  newRedis,
  sampleReport,
  silentLog,
  TARGET,
  testConfig,
  uniquePrefix,
} from './helpers.ts';

const redis = newRedis();
const prefix = uniquePrefix('processor');
const config = testConfig(prefix);
const store = new IncidentStore(redis, prefix);
const id = incidentId(TARGET);
let slack: FakeSlack;
let publisher: SlackPublisher;

const processorWith = (steps: Steps) =>
  createInvestigateProcessor({ config, log: silentLog, redis, incidents: store, publisher, steps });

const blocksText = (ts: string) => JSON.stringify(slack.messages.get(ts)?.blocks ?? []);

describe('investigate processor (real Redis, fake Slack)', () => {
  beforeAll(async () => {
    slack = await startFakeSlack();
    publisher = new SlackPublisher({ token: 'xoxb-test', slackApiUrl: slack.apiUrl, postIntervalMs: 0 });
  });
  beforeEach(async () => {
    await cleanPrefix(redis, prefix);
    slack.calls.length = 0;
  });
  afterAll(async () => {
    await cleanPrefix(redis, prefix);
    await redis.quit();
    await slack.close();
  });

  it('pins, collects, diagnoses and publishes one parent updated in place plus threaded evidence', async () => {
    const { steps, calls } = countingSteps();
    const result = await processorWith(steps)(fakeJob(jobData(id)));
    expect(result).toBe('diagnosed');
    expect(calls).toEqual({ pin: 1, collect: 1, diagnose: 1 });
    const posts = slack.callsOf('chat.postMessage');
    const parent = posts[0];
    expect(parent?.body.thread_ts).toBeUndefined();
    const parentTs = String(parent?.response.ts);
    expect(posts.slice(1).length).toBeGreaterThan(0);
    for (const reply of posts.slice(1)) expect(reply.body.thread_ts).toBe(parentTs);
    // Progress updates are coalesced (latest state wins): at least the final one reaches Slack.
    expect(slack.callsOf('chat.update').length).toBeGreaterThanOrEqual(1);
    expect(blocksText(parentTs)).toContain('spark.data_skew · confidence 85%');
    expect(slack.calls.every((c) => c.response.ok === true)).toBe(true);
    const rec = await store.get(id);
    expect(rec).toMatchObject({ checkpoint: 'published', parentTs, repliesPosted: posts.length - 1 });
    expect(await redis.hget(metricsKey(prefix), 'outcome:diagnosed')).toBe('1');
  });

  it('resumes after a crash from the collected checkpoint: no re-collect, no second parent', async () => {
    let crash = true;
    const { steps, calls } = countingSteps({ failDiagnose: () => crash });
    const run = processorWith(steps);
    await expect(run(fakeJob(jobData(id), 0, 3))).rejects.toThrow('worker crashed');
    expect((await store.get(id))?.checkpoint).toBe('collected');
    crash = false;
    await run(fakeJob(jobData(id), 1, 3));
    expect(calls).toEqual({ pin: 1, collect: 1, diagnose: 2 });
    const parents = slack.callsOf('chat.postMessage').filter((c) => c.body.thread_ts === undefined);
    expect(parents).toHaveLength(1);
    expect((await store.get(id))?.checkpoint).toBe('published');
    await run(fakeJob(jobData(id), 2, 3));
    expect(calls.diagnose).toBe(2);
  });

  it('posts only the evidence replies a crashed run had not posted yet', async () => {
    const { steps } = countingSteps();
    const run = processorWith(steps);
    await run(fakeJob(jobData(id)));
    const total = slack.callsOf('chat.postMessage').length - 1;
    await store.checkpoint(id, 'diagnosed');
    await store.setRepliesPosted(id, total - 1);
    slack.calls.length = 0;
    await run(fakeJob(jobData(id)));
    expect(slack.callsOf('chat.postMessage')).toHaveLength(1);
  });

  it('threads an alert investigation under the alert (thread_ts = the alert ts)', async () => {
    const { steps } = countingSteps();
    await processorWith(steps)(fakeJob(jobData(id, { source: 'alert', threadTs: '1723609070.703489' })));
    const posts = slack.callsOf('chat.postMessage');
    expect(posts.length).toBeGreaterThan(1);
    for (const p of posts) expect(p.body.thread_ts).toBe('1723609070.703489');
  });

  it('retries a transient upstream error and shows the failure only on the final attempt', async () => {
    const { steps } = countingSteps({
      pinResult: () => upstreamError('History Server answered 503', true, 503),
    });
    const run = processorWith(steps);
    const first = run(fakeJob(jobData(id), 0, 2));
    await expect(first).rejects.toThrow('History Server answered 503');
    await expect(first).rejects.not.toBeInstanceOf(UnrecoverableError);
    expect((await store.get(id))?.checkpoint).toBe('claimed');
    await expect(run(fakeJob(jobData(id), 1, 2))).rejects.toThrow('503');
    const rec = await store.get(id);
    expect(rec?.checkpoint).toBe('failed');
    expect(blocksText(String(rec?.parentTs))).toContain('History Server answered 503');
    expect(await redis.hget(metricsKey(prefix), 'outcome:failed')).toBe('1');
  });

  it('gives up at once (UnrecoverableError) when the application does not exist', async () => {
    const { steps } = countingSteps({ pinResult: () => noData('application not found', 404) });
    await expect(processorWith(steps)(fakeJob(jobData(id), 0, 5))).rejects.toBeInstanceOf(UnrecoverableError);
    const rec = await store.get(id);
    expect(rec?.checkpoint).toBe('failed');
    expect(rec?.error).toContain('was not found');
    expect(JSON.stringify(slack.messages.get(String(rec?.parentTs)))).toContain('not found');
  });

  it('names the platform in Slack, not its internal base URL or the worker paths (failures and gaps)', async () => {
    const internal = { ...config, SPARK_HISTORY_URL: 'http://history.internal.corp:18080' };
    const run = (steps: Steps) =>
      createInvestigateProcessor({
        config: internal,
        log: silentLog,
        redis,
        incidents: store,
        publisher,
        steps,
      });
    const down = 'GET http://history.internal.corp:18080/api/v1/applications/x failed: connection refused';
    const { steps } = countingSteps({ pinResult: () => upstreamError(down, false) });
    await run(steps)(fakeJob(jobData(id), 0, 5)).catch(() => undefined);
    const wire = JSON.stringify(slack.calls.map((c) => c.body));
    expect(wire).toContain('the Spark History Server/api/v1/applications/x failed: connection refused');
    expect(wire).not.toContain('history.internal.corp');

    await cleanPrefix(redis, prefix);
    slack.calls.length = 0;
    const gappy = countingSteps().steps;
    gappy.diagnose = (incident, pin) => ({
      ...sampleReport(incident, pin),
      gaps: ['/srv/heal/projects/shop/target/manifest.json could not be read (EACCES)'],
    });
    await run(gappy)(fakeJob(jobData(id)));
    const rec = await store.get(id);
    expect(rec?.report?.gaps.join('\n')).toContain('…/manifest.json could not be read');
    expect(JSON.stringify(slack.calls.map((c) => c.body))).not.toContain('/srv/heal');
  });

  it('treats an unconfigured platform as unrecoverable with a plain message', async () => {
    const airflow = { platform: 'airflow' as const, dagId: 'd', runId: 'r' };
    const aid = incidentId(airflow);
    const run = createInvestigateProcessor({ config, log: silentLog, redis, incidents: store, publisher });
    const err = await run(fakeJob(jobData(aid, { target: airflow }), 0, 5)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect((await store.get(aid))?.error).toMatch(/AIRFLOW_BASE_URL/);
  });

  it('rejects malformed job data without touching Slack', async () => {
    const { steps } = countingSteps();
    const bad = { ...jobData(id), channel: '' };
    await expect(processorWith(steps)(fakeJob(bad))).rejects.toBeInstanceOf(UnrecoverableError);
    expect(slack.calls).toHaveLength(0);
  });

  it('a job that stalled out (workers killed too often) fails visibly in its thread and can be asked again', async () => {
    const { steps } = countingSteps({ failDiagnose: () => true });
    await expect(processorWith(steps)(fakeJob(jobData(id), 0, 5))).rejects.toThrow('worker crashed');
    expect((await store.get(id))?.checkpoint).toBe('collected');
    const deps = { config, log: silentLog, redis, incidents: store, publisher, steps };
    await failStalledInvestigation(deps, fakeJob(jobData(id)), 'job stalled more than allowable limit');
    const rec = await store.get(id);
    expect(rec?.checkpoint).toBe('failed');
    expect(blocksText(String(rec?.parentTs))).toMatch(/stopped mid-investigation too many times/);
    const again = await store.claim({ ...jobData(id), source: 'command' });
    expect(again.claimed).toBe(true);
  });

  it('stores the recurrence badge with the incident, so a re-render after a click keeps it', async () => {
    const other = { platform: 'spark' as const, appId: 'app-20260101000000-0008' };
    const otherId = incidentId(other);
    await processorWith(countingSteps().steps)(fakeJob(jobData(id)));
    await processorWith(countingSteps().steps)(fakeJob(jobData(otherId, { target: other })));
    const rec = await store.get(otherId);
    expect(rec?.recurrence?.seen).toBe(2);
    const state = rec ? threadStateOf(rec) : undefined;
    const rerendered = state ? renderParent(state) : undefined;
    expect(JSON.stringify(rerendered?.blocks)).toContain('heal_recurrence');
  });
});
