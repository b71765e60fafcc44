import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTarget } from '../../src/core/target.ts';
import { AuditLog } from '../../src/jobs/audit.ts';
import { SECRET } from '../e2e/stack.ts';
import { sendSigned, slackSignature, slashCommandBody } from '../support/fakeSlack.ts';
import { findSecrets } from '../support/untrusted.ts';
import { fuzzHealText, fuzzWebhookBody } from './fuzz.ts';
import { chaosSeed, seeded } from './rng.ts';
import { aliasIds, type ChaosStack, startChaosStack } from './stack.ts';

const APPROVER = 'U0APPROVER';
const WEBHOOK_TOKEN = 'chaos-webhook-token-0123456789';
const FORM = 'application/x-www-form-urlencoded';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A block_actions click (corpus BlockActionPayload.json shape); Slack gives every click its own trigger_id. */
function clickBody(
  user: string,
  actionId: string,
  value: string,
  channel: string,
  ts: string,
  trigger = '1234.5678.abcd',
): string {
  const payload = {
    type: 'block_actions',
    team: { id: 'T0001', domain: 'example' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0001' },
    api_app_id: 'A0HEAL',
    token: 'x8GlZSSaBheFZWjZPbxPasEY',
    container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
    trigger_id: trigger,
    channel: { id: channel, name: 'data-alerts' },
    message: { type: 'message', ts, text: 'Heal', blocks: [] },
    response_url: 'https://hooks.slack.com/actions/T0001/1/x',
    actions: [{ action_id: actionId, block_id: 'heal_actions', value, type: 'button', action_ts: '1.2' }],
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

/** `/heal <text>` as Slack sends it, with its own trigger_id (identical bodies in one second are replays). */
function commandBody(text: string, channel: string, trigger: string): string {
  const form = new URLSearchParams(slashCommandBody(text, { channel }));
  form.set('trigger_id', trigger);
  return form.toString();
}

/**
 * Every key under the prefix with its DUMP, except the audit stream and housekeeping that changes on its own
 * (BullMQ's stalled-check markers, expiring Slack pacing slots, the replay guard's seen signatures).
 */
async function snapshot(stack: ChaosStack): Promise<Map<string, string>> {
  const keys = await stack.redis.keys(`${stack.prefix}:*`);
  const out = new Map<string, string>();
  for (const k of keys.filter((k) => !/:audit$|:stalled-check$|:slack:pace:|:slack:sig:/.test(k)).sort())
    out.set(k, (await stack.redis.dumpBuffer(k))?.toString('base64') ?? '');
  return out;
}

describe('security: forged/stale/future/replayed requests, unauthorised clicks, secrets, fuzzed input', () => {
  let stack: ChaosStack;
  const seed = chaosSeed();
  beforeAll(async () => {
    stack = await startChaosStack({
      env: {
        HEAL_APPROVERS: APPROVER,
        HEAL_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
        HEAL_WEBHOOK_CHANNEL: 'C0WEBHOOK',
        HEAL_ALERT_CHANNELS: 'C0WEBHOOK',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('rejects 1,000 forged, unsigned, malformed, stale, future-dated and tampered requests with 401, changing nothing', async () => {
    const url = `${stack.base}/slack/events`;
    const rand = seeded(seed);
    const before = await snapshot(stack);
    const now = () => Math.floor(Date.now() / 1000);
    const kinds = {
      forged: (b: string) => ({ ts: now(), sig: slackSignature('not-the-secret', now(), b) }),
      unsigned: () => ({ ts: now(), sig: '' }),
      malformed: () => ({ ts: now(), sig: `v1=${'0'.repeat(64)}` }),
      stale: (b: string) => ({ ts: now() - 301 - Math.floor(rand() * 86_400), sig: '' as string, body: b }),
      tampered: (b: string) => ({ ts: now(), sig: slackSignature(SECRET, now(), `${b}&x=1`) }),
      // Correctly signed, but dated more than 5 minutes ahead (Bolt only checks the past).
      future: (b: string) => {
        const ts = now() + 301 + Math.floor(rand() * 86_400);
        return { ts, sig: slackSignature(SECRET, ts, b) };
      },
    };
    const counts: Record<string, { sent: number; rejected: number }> = {};
    const names = Object.keys(kinds) as Array<keyof typeof kinds>;
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const kind = names[(batch * 50 + i) % names.length] as keyof typeof kinds;
          const body =
            i % 2
              ? slashCommandBody(`spark ${aliasIds(1, 8000 + i)[0]}`)
              : clickBody(APPROVER, 'heal_rerun', 'inc_0123456789abcdef', 'C0SEC', '1.1');
          const k = kinds[kind](body);
          const sig = kind === 'stale' ? slackSignature(SECRET, k.ts, body) : k.sig;
          const res = await post(url, body, {
            'content-type': FORM,
            'x-slack-request-timestamp': String(k.ts),
            'x-slack-signature': sig,
          });
          const c = counts[kind] ?? { sent: 0, rejected: 0 };
          counts[kind] = c;
          c.sent++;
          if (res.status === 401) c.rejected++;
        }),
      );
    }
    const total = Object.values(counts).reduce((n, c) => n + c.sent, 0);
    const rejected = Object.values(counts).reduce((n, c) => n + c.rejected, 0);
    console.log(`security seed ${seed}: ${rejected}/${total} rejected ${JSON.stringify(counts)}`);
    expect(total).toBe(1000);
    expect(rejected).toBe(1000);
    expect(stack.slack.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
    expect(await snapshot(stack)).toEqual(before);
  }, 60_000);

  it('a replay of a valid signed /heal within the window opens no second thread, even after the first failed', async () => {
    const url = `${stack.base}/slack/events`;
    const channel = 'C0REPLAY';
    const body = slashCommandBody(`spark ${aliasIds(1, 8200)[0]}`, { channel });
    const ts = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': FORM,
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': slackSignature(SECRET, ts, body),
    };
    const first = await post(url, body, headers);
    expect(first.status).toBe(200);
    const id = first.text.match(/inc_[0-9a-f]{16}/)?.[0] ?? '';
    expect(id).not.toBe('');
    await stack.waitPublished(id, 60_000);
    // The first investigation failed (as a worker that gave up marks it), so a new /heal may claim it again.
    const key = `${stack.prefix}:incident:${id}`;
    await stack.redis.hset(key, 'checkpoint', 'failed', 'error', 'chaos: the first investigation failed');
    const tops = () =>
      stack.slack
        .callsOf('chat.postMessage')
        .filter((c) => c.body.channel === channel && c.body.thread_ts === undefined);
    expect(tops()).toHaveLength(1);
    // The same request again, byte for byte, headers included, 2 s later (well inside the 5-minute window).
    await sleep(2_000);
    const replays = await Promise.all([1, 2, 3].map(() => post(url, body, headers)));
    expect(replays.map((r) => `${r.status} ${r.text}`)).toEqual(['200 ', '200 ', '200 ']);
    await sleep(3_000);
    expect(await stack.redis.hget(key, 'checkpoint')).toBe('failed');
    expect(tops()).toHaveLength(1);
    expect(stack.web.output()).toContain('replayed slack request ignored');
  }, 90_000);

  it('audits every unauthorised click and writes nothing else', async () => {
    const id = await stack.heal(aliasIds(1, 8100)[0] as string, 'C0SECCLICK');
    const rec = await stack.waitPublished(id, 60_000);
    const audit = new AuditLog(stack.redis, stack.prefix);
    const auditBefore = (await audit.list({ count: 10_000 })).length;
    const before = await snapshot(stack);
    const actions = ['heal_rerun', 'heal_rerun_confirm', 'heal_approve_fix'];
    const clicks = Array.from({ length: 30 }, (_, i) => ({
      user: `U0STRANGER${i % 5}`,
      action: actions[i % 3] as string,
    }));
    for (const [i, c] of clicks.entries()) {
      const res = await sendSigned(
        `${stack.base}/slack/events`,
        clickBody(c.user, c.action, id, 'C0SECCLICK', String(rec.parentTs), `1234.${i}.click`),
        { secret: SECRET, contentType: 'form' },
      );
      expect(res.status).toBe(200);
    }
    const entries = await (async () => {
      for (let i = 0; i < 100; i++) {
        const all = await audit.list({ incident: id, count: 1000 });
        if (all.length >= clicks.length) return all;
        await new Promise((r) => setTimeout(r, 100));
      }
      return audit.list({ incident: id, count: 1000 });
    })();
    expect(entries).toHaveLength(clicks.length);
    expect((await audit.list({ count: 10_000 })).length - auditBefore).toBe(clicks.length);
    expect(entries.every((e) => e.who.startsWith('U0STRANGER') && e.result === 'refused')).toBe(true);
    const after = await snapshot(stack);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
      (k) => before.get(k) !== after.get(k),
    );
    expect(changed).toEqual([]);
  }, 90_000);

  it('survives 10,000 fuzzed targets, 1,000 fuzzed /heal commands and 1,000 webhook bodies', async () => {
    const rand = seeded(seed + 1);
    for (let i = 0; i < 10_000; i++) {
      const res = parseTarget(fuzzHealText(rand));
      if (!res.ok) expect(res.error.length).toBeGreaterThan(0);
    }
    const statuses: Record<string, number> = {};
    const bump = (k: string) => {
      statuses[k] = (statuses[k] ?? 0) + 1;
    };
    for (let b = 0; b < 20; b++) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const text = fuzzHealText(rand);
          const res = await sendSigned(
            `${stack.base}/slack/events`,
            commandBody(text, 'C0FUZZ', `fuzz.${b}.${i}`),
            { secret: SECRET, contentType: 'form' },
          );
          bump(`heal ${res.status}`);
          expect(res.status).toBe(200);
          expect(res.text.length).toBeGreaterThan(0);
          // A local dbt path (`dbt ../../../../etc/shadow`, `dbt file:///etc/passwd`…) from Slack is refused:
          // HEAL_DBT_ROOTS is unset here, so every one of them must get the roots refusal, never an investigation.
          const parsed = parseTarget(text.trim());
          if (parsed.ok && parsed.target.platform === 'dbt' && parsed.target.path !== undefined) {
            bump('dbt path refused');
            expect(res.text).toContain('HEAL_DBT_ROOTS');
            expect(res.text).not.toMatch(/Investigating/i);
          }
        }),
      );
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const res = await post(`${stack.base}/alerts/generic`, fuzzWebhookBody(rand), {
            'content-type': 'application/json',
            authorization: `Bearer ${WEBHOOK_TOKEN}`,
          });
          bump(`webhook ${res.status}`);
          expect(res.status).toBeLessThan(500);
          const json = JSON.parse(res.text) as { ok: boolean; message?: string };
          if (!json.ok) expect(json.message?.length).toBeGreaterThan(0);
        }),
      );
    }
    for (const path of ['../../../../etc/shadow', '/etc', '/proc/self/environ', 'target', '/tmp/../etc']) {
      const res = await sendSigned(
        `${stack.base}/slack/events`,
        commandBody(`dbt ${path}`, 'C0FUZZ', `fuzz.dbt.${path}`),
        { secret: SECRET, contentType: 'form' },
      );
      bump('dbt path refused');
      expect(res.text, path).toContain('HEAL_DBT_ROOTS');
    }
    console.log(`fuzz seed ${seed}: ${JSON.stringify(statuses)}`);
    expect(stack.web.child.exitCode).toBeNull();
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
    // The corpus secrets were in the fuzzed texts; none reached Slack.
    expect(findSecrets(JSON.stringify(stack.slack.calls.map((c) => c.body)))).toEqual([]);
  }, 120_000);
});
