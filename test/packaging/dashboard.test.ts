import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, freePort, spawnChild, stopChild, waitFor } from '../../src/cli/demo-procs.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TOKEN = 'dash-token-0123456789';

async function startWeb(extra: Record<string, string>) {
  const port = await freePort();
  const web = spawnChild(
    process.execPath,
    [join(ROOT, 'bin', 'heal.js'), 'web'],
    {
      PATH: process.env.PATH ?? '',
      REDIS_URL: 'redis://127.0.0.1:6379/9',
      PORT: String(port),
      SLACK_BOT_TOKEN: 'xoxb-dash',
      SLACK_SIGNING_SECRET: 'dash-secret',
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
      HEAL_QUEUE_PREFIX: `healdash-${randomBytes(3).toString('hex')}`,
      LOG_LEVEL: 'warn',
      ...extra,
    },
    ROOT,
  );
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    'web healthz',
    async () => (await fetch(`${base}/healthz`).catch(() => null))?.status === 200,
    30_000,
  );
  return { web, base };
}

describe('queue dashboard at /admin/queues', () => {
  let on: { web: Child; base: string };
  let off: { web: Child; base: string };
  beforeAll(async () => {
    [on, off] = await Promise.all([startWeb({ HEAL_DASHBOARD_TOKEN: TOKEN }), startWeb({})]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([stopChild(on?.web), stopChild(off?.web)]);
  });

  it('asks for credentials and refuses a wrong token', async () => {
    const res = await fetch(`${on.base}/admin/queues`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    const wrong = await fetch(`${on.base}/admin/queues`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('serves bull-board with the queues to Basic (token as password) and Bearer auth', async () => {
    const basic = `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`;
    const page = await fetch(`${on.base}/admin/queues`, { headers: { authorization: basic } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const api = await fetch(`${on.base}/admin/queues/api/queues`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(api.status).toBe(200);
    const names = ((await api.json()) as { queues: Array<{ name: string }> }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(['investigate', 'remediate']));
  });

  it('is not served when HEAL_DASHBOARD_TOKEN is unset', async () => {
    const res = await fetch(`${off.base}/admin/queues`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
  });
});
