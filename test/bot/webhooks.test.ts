import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BotDeps } from '../../src/bot/deps.ts';
import { WebMetrics } from '../../src/bot/metrics.ts';
import { createIntake } from '../../src/bot/routes/intake.ts';
import { dbtSignature, handleWebhook, type WebhookSource } from '../../src/bot/routes/webhooks.ts';
import { AlertGroups, groupId } from '../../src/jobs/grouping.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import type { InvestigateJobData } from '../../src/jobs/queue.ts';
import { cleanPrefix, newRedis, silentLog, testConfig, uniquePrefix } from '../jobs/helpers.ts';

const SECRET = 'dbt-webhook-secret-7f3a';
const TOKEN = 'generic-token-19c2';
const CHANNEL = 'C0WEBHOOKS';

/** A dbt Cloud `job.run.errored` event in the documented shape (docs.getdbt.com/docs/deploy/webhooks). */
function dbtEvent(
  over: { timestamp?: string; eventType?: string; runId?: string; statusCode?: number } = {},
) {
  return {
    accountId: 48213,
    webhookId: 'wsu_2vYq8aLpQ0',
    eventId: `wev_${Math.random().toString(36).slice(2)}`,
    timestamp: over.timestamp ?? new Date().toISOString(),
    eventType: over.eventType ?? 'job.run.errored',
    webhookName: 'heal',
    data: {
      jobId: '90211',
      jobName: 'Nightly marts',
      projectName: 'analytics',
      environmentId: '7731',
      environmentName: 'Production',
      dbtVersion: '1.8.7',
      runId: over.runId ?? '51009877',
      runReason: 'Kicked off by schedule',
      runStatus: over.statusCode === 10 ? 'Success' : 'Errored',
      runStatusCode: over.statusCode ?? 20,
      runStatusMessage: 'None',
    },
  };
}

describe('POST /alerts/<source>', () => {
  let redis: Redis;
  let server: Server;
  let base: string;
  const prefix = uniquePrefix('webhooks');
  const enqueued: InvestigateJobData[] = [];
  const summaries: string[] = [];

  beforeAll(async () => {
    redis = newRedis();
    const config = testConfig(prefix, {
      HEAL_WEBHOOK_CHANNEL: CHANNEL,
      HEAL_DBT_WEBHOOK_SECRET: SECRET,
      HEAL_WEBHOOK_TOKEN: TOKEN,
      HEAL_ALERT_CHANNELS: 'C0ALERTS',
    });
    const incidents = new IncidentStore(redis, prefix);
    const deps = {
      config,
      log: silentLog,
      incidents,
      enqueue: async (d: InvestigateJobData) => void enqueued.push(d),
      metrics: new WebMetrics(redis, prefix),
      isSupported: () => true,
    } as unknown as BotDeps;
    const groups = new AlertGroups(redis, prefix, incidents, { suppressMs: 60_000 });
    const intake = {
      ...createIntake(groups, undefined as never, 1),
      scheduleSummary: async (g: string) => void summaries.push(g),
    };
    server = createServer((req, res) => {
      const source = (req.url ?? '').replace('/alerts/', '') as WebhookSource;
      void handleWebhook(source, req, res, { deps, intake });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });
  beforeEach(() => {
    enqueued.length = 0;
  });

  const post = async (source: string, body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/alerts/${source}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('accepts a dbt Cloud event signed with the HMAC-SHA256 of the raw body and queues one investigation', async () => {
    const raw = JSON.stringify(dbtEvent({ runId: '51009877' }));
    const res = await post('dbt-cloud', raw, { authorization: dbtSignature(SECRET, raw) });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ ok: true, status: 'started' });
    expect(enqueued).toHaveLength(1);
    expect(enqueued[0]).toMatchObject({
      channel: CHANNEL,
      source: 'alert',
      target: { platform: 'dbt', cloudRunId: '51009877' },
    });
    // dbt Cloud retries the same delivery: nothing new.
    const again = await post('dbt-cloud', raw, { authorization: dbtSignature(SECRET, raw) });
    expect(again.json).toMatchObject({ status: 'duplicate' });
    expect(enqueued).toHaveLength(1);
  });

  it('refuses forged, unsigned and re-serialised dbt Cloud events with 401 and queues nothing', async () => {
    const raw = JSON.stringify(dbtEvent({ runId: '51009878' }));
    const forged = await post('dbt-cloud', raw, { authorization: dbtSignature('not-the-secret', raw) });
    expect(forged).toMatchObject({ status: 401, json: { ok: false, error: 'bad_signature' } });
    expect((await post('dbt-cloud', raw)).json).toMatchObject({ error: 'unsigned' });
    // The signature covers the exact bytes: a body changed after signing does not verify.
    const tampered = raw.replace('51009878', '51009879');
    const res = await post('dbt-cloud', tampered, { authorization: dbtSignature(SECRET, raw) });
    expect(res.status).toBe(401);
    expect(enqueued).toEqual([]);
  });

  it('refuses a correctly signed but stale (or far-future) dbt Cloud event', async () => {
    for (const ts of [new Date(Date.now() - 3_600_000), new Date(Date.now() + 3_600_000)]) {
      const raw = JSON.stringify(dbtEvent({ timestamp: ts.toISOString(), runId: '51009880' }));
      const res = await post('dbt-cloud', raw, { authorization: dbtSignature(SECRET, raw) });
      expect(res).toMatchObject({ status: 400, json: { error: 'stale_event' } });
    }
    expect(enqueued).toEqual([]);
  });

  it('ignores successful and started dbt Cloud runs (202, nothing queued)', async () => {
    for (const e of [
      dbtEvent({ eventType: 'job.run.completed', statusCode: 10 }),
      dbtEvent({ eventType: 'job.run.started' }),
    ]) {
      const raw = JSON.stringify(e);
      const res = await post('dbt-cloud', raw, { authorization: dbtSignature(SECRET, raw) });
      expect(res.json).toMatchObject({ status: 'ignored' });
    }
    expect(enqueued).toEqual([]);
  });

  it('airflow: token required, bad JSON and missing fields are 4xx, retries of one try dedup, tasks of one run group', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const alert = {
      dag_id: 'orders_hourly',
      run_id: 'scheduled__2026-03-02T10:00:00+00:00',
      task_id: 'load',
      try_number: 1,
    };
    expect((await post('airflow', JSON.stringify(alert))).status).toBe(401);
    expect((await post('airflow', JSON.stringify(alert), { authorization: 'Bearer wrong' })).status).toBe(
      401,
    );
    expect((await post('airflow', '{not json', auth)).json).toMatchObject({ error: 'invalid_json' });
    expect((await post('airflow', JSON.stringify({ dag_id: 'x' }), auth)).status).toBe(400);
    expect(enqueued).toEqual([]);

    expect((await post('airflow', JSON.stringify(alert), auth)).json).toMatchObject({ status: 'started' });
    expect((await post('airflow', JSON.stringify(alert), auth)).json).toMatchObject({ status: 'duplicate' });
    const other = { ...alert, task_id: 'publish', try_number: 2, exception: 'upstream failed' };
    const joined = await post('airflow', JSON.stringify(other), auth);
    expect(joined.json).toMatchObject({ status: 'joined', grouped: 2 });
    expect(enqueued).toHaveLength(1);
    expect(summaries).toContain(groupId(enqueued[0]?.target as never));
  });

  it('generic: validates the documented shape, the platform and the channel', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const bad = [
      { platform: 'spark' },
      { platform: 'kafka', target: 'x' },
      { platform: 'dbt', target: 'spark application_1700000000000_0042' },
      { platform: 'spark', target: 'application_1700000000000_0042', channel: 'C0ELSEWHERE' },
    ];
    for (const b of bad) expect((await post('generic', JSON.stringify(b), auth)).status).toBe(400);
    const ok = {
      platform: 'spark',
      target: 'application_1700000000000_0042',
      channel: 'C0ALERTS',
      summary: 'nightly ETL died',
    };
    expect((await post('generic', JSON.stringify(ok), auth)).json).toMatchObject({ status: 'started' });
    expect(enqueued).toEqual([
      expect.objectContaining({
        channel: 'C0ALERTS',
        target: { platform: 'spark', appId: 'application_1700000000000_0042' },
      }),
    ]);
  });

  it('refuses a body over HEAL_MAX_BODY_BYTES with a 413 the client receives, declared or streamed', async () => {
    const big = `{"platform":"spark","target":"${'x'.repeat(3 * 1024 * 1024)}"}`;
    const headers = { authorization: `Bearer ${TOKEN}` };
    const declared = await post('generic', big, headers);
    expect(declared).toMatchObject({ status: 413, json: { ok: false, error: 'too_large' } });
    // Streamed (chunked, no Content-Length): refused once the bytes read pass the cap.
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 200) c.enqueue(chunk);
        else c.close();
      },
    });
    const res = await fetch(`${base}/alerts/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'too_large' });
    expect(enqueued).toEqual([]);
  });
});
