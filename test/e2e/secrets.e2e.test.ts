import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentId } from '../../src/core/incident.ts';
import { parseTarget } from '../../src/core/target.ts';
import { sendSigned, slashCommandBody } from '../support/fakeSlack.ts';
import { loadScenario } from '../support/fixtureServer.ts';
import { SECRET, type Stack, startStack, waitPublished } from './stack.ts';

// Planted fake secrets in Spark properties, a DSN, a JDBC URL and the driver log (see test/variants/README.md).
const SCENARIO = join(import.meta.dirname, '..', 'variants', 'spark-v-schema-secrets');

describe('web + worker: secrets in the evidence never reach Slack', () => {
  let stack: Stack;
  const scenario = loadScenario(SCENARIO);
  beforeAll(async () => {
    stack = await startStack({ scenarioDir: SCENARIO });
  }, 45_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('publishes the diagnosis with every planted secret redacted from every Web API call', async () => {
    const target = scenario.target.replace(/^spark /, '');
    const body = slashCommandBody(`spark ${target}`, { channel: 'C0SECRETS', user: 'U0ONCALL' });
    const res = await sendSigned(`${stack.base}/slack/events`, body, { secret: SECRET, contentType: 'form' });
    expect(res.status).toBe(200);
    const parsed = parseTarget(scenario.target);
    if (!parsed.ok) throw new Error(parsed.error);
    await waitPublished(stack, incidentId(parsed.target));
    const calls = stack.slack.calls.filter((c) => c.method.startsWith('chat.'));
    expect(calls.length).toBeGreaterThan(2);
    const wire = JSON.stringify(calls.map((c) => c.body));
    expect(wire).toMatch(/spark\.schema_mismatch · confidence \d+%/);
    for (const secret of scenario.secrets ?? []) expect(wire, secret).not.toContain(secret);
    expect(wire).toContain('[REDACTED');
  }, 60_000);
});
