/**
 * Issue 13 item 6: no input takes `heal web` down. Signed `null`, `payload=null`, `[]`, `"x"`, `1`, every
 * field of every Slack payload kind and of every webhook given a wrong type (one at a time), and seeded
 * random combinations of them: each is answered 2xx/4xx, nothing is left unhandled, and web stays up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbtSignature } from '../../src/bot/routes/webhooks.ts';
import { SECRET } from '../e2e/stack.ts';
import { sendSigned } from '../support/fakeSlack.ts';
import { chaosSeed, seeded } from './rng.ts';
import { type ChaosStack, startChaosStack } from './stack.ts';
import {
  commandFormCases,
  randomSlackCase,
  structuralSlackCases,
  structuralWebhookBodies,
  webhookTemplates,
  wrongBodies,
} from './structural.ts';

const WEBHOOK_TOKEN = 'chaos-webhook-token-0123456789';
const DBT_SECRET = 'chaos-dbt-webhook-secret-0123456789';

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

describe('structurally wrong payloads: signed Slack requests and webhooks', () => {
  let stack: ChaosStack;
  const seed = chaosSeed();
  beforeAll(async () => {
    stack = await startChaosStack({
      env: {
        HEAL_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
        HEAL_WEBHOOK_CHANNEL: 'C0WEBHOOK',
        HEAL_ALERT_CHANNELS: 'C0WEBHOOK',
        HEAL_DBT_WEBHOOK_SECRET: DBT_SECRET,
      },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('answers signed null, payload=null, [], "x", 1 and structurally wrong payloads with 2xx/4xx and stays up', async () => {
    const url = `${stack.base}/slack/events`;
    const rand = seeded(seed + 2);
    const cases = [
      ...wrongBodies(),
      ...commandFormCases(),
      ...structuralSlackCases(),
      ...Array.from({ length: 300 }, () => randomSlackCase(rand)),
    ];
    const statuses: Record<number, number> = {};
    const bad: string[] = [];
    for (let i = 0; i < cases.length; i += 50) {
      await Promise.all(
        cases.slice(i, i + 50).map(async (c) => {
          const res = await sendSigned(url, c.body, { secret: SECRET, contentType: c.contentType }).catch(
            (err: Error) => ({ status: 0, text: err.message }),
          );
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (!(res.status >= 200 && res.status < 300) && !(res.status >= 400 && res.status < 500))
            bad.push(`${c.name}: ${res.status} ${res.text.slice(0, 80)}`);
        }),
      );
      if (stack.web.child.exitCode !== null) break;
    }
    console.log(`slack payload fuzz seed ${seed}: ${cases.length} cases ${JSON.stringify(statuses)}`);
    // Error lines are expected only for payloads no listener takes (Bolt 404s them after 3 s).
    const errors: Record<string, number> = {};
    for (const line of stack.web
      .output()
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l))) {
      const msg = String((JSON.parse(line) as { msg?: unknown }).msg).slice(0, 100);
      errors[msg] = (errors[msg] ?? 0) + 1;
    }
    console.log(`web error lines by message: ${JSON.stringify(errors)}`);
    expect(stack.web.output()).not.toContain('unhandled promise rejection');
    expect(stack.web.child.exitCode).toBeNull();
    expect(bad.slice(0, 20)).toEqual([]);
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
  }, 240_000);

  it('answers every structurally wrong webhook body (airflow, signed dbt Cloud, generic) with 2xx/4xx', async () => {
    const templates = webhookTemplates(new Date());
    const statuses: Record<string, number> = {};
    const bad: string[] = [];
    for (const source of ['airflow', 'dbt-cloud', 'generic'] as const) {
      const bodies = structuralWebhookBodies(templates[source]);
      for (let i = 0; i < bodies.length; i += 50) {
        await Promise.all(
          bodies.slice(i, i + 50).map(async (body) => {
            const auth = source === 'dbt-cloud' ? dbtSignature(DBT_SECRET, body) : `Bearer ${WEBHOOK_TOKEN}`;
            const res = await post(`${stack.base}/alerts/${source}`, body, {
              'content-type': 'application/json',
              authorization: auth,
            }).catch((err: Error) => ({ status: 0, text: err.message }));
            statuses[`${source} ${res.status}`] = (statuses[`${source} ${res.status}`] ?? 0) + 1;
            if (!(res.status >= 200 && res.status < 300) && !(res.status >= 400 && res.status < 500))
              bad.push(`${source} ${body.slice(0, 60)}: ${res.status} ${res.text.slice(0, 80)}`);
          }),
        );
      }
    }
    console.log(`webhook structural fuzz: ${JSON.stringify(statuses)}`);
    expect(bad.slice(0, 20)).toEqual([]);
    expect(stack.web.child.exitCode).toBeNull();
    expect((await fetch(`${stack.base}/healthz`)).status).toBe(200);
  }, 120_000);
});
