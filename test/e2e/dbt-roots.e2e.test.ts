import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentId } from '../../src/core/incident.ts';
import { sendSigned, slashCommandBody } from '../support/fakeSlack.ts';
import { waitFor } from './procs.ts';
import { SECRET, type Stack, startStack, waitPublished } from './stack.ts';

const SCENARIO_TARGET = join(
  import.meta.dirname,
  '..',
  'scenarios',
  'dbt-missing-column-fct-orders',
  'files',
);
const CANARY = 'OTHER-TEAM-CANARY-7f3a91';
const WEBHOOK_TOKEN = 'roots-webhook-token-0123456789';
const CHANNEL = 'C0DBTROOTS';

/** A copy of a real failing dbt project whose error message carries the canary. */
function plantProject(dir: string, canary: string): string {
  cpSync(SCENARIO_TARGET, dir, { recursive: true });
  const rr = join(dir, 'target', 'run_results.json');
  writeFileSync(rr, readFileSync(rr, 'utf8').replaceAll('discount_amount', `discount_amount_${canary}`));
  return join(dir, 'target');
}

describe('web + worker: local dbt paths from Slack and webhooks stay under HEAL_DBT_ROOTS', () => {
  let stack: Stack;
  let tmp: string;
  let root: string;
  let outside: string;
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'heal-roots-'));
    root = join(tmp, 'allowed');
    mkdirSync(root);
    outside = plantProject(join(tmp, 'other-team'), CANARY);
    plantProject(join(root, 'shop'), 'INSIDE');
    symlinkSync(join(tmp, 'other-team'), join(root, 'escape'));
    stack = await startStack({
      env: {
        HEAL_DBT_ROOTS: root,
        HEAL_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
        HEAL_WEBHOOK_CHANNEL: CHANNEL,
      },
    });
  }, 45_000);
  afterAll(async () => {
    await stack?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const heal = async (text: string) => {
    const res = await sendSigned(`${stack.base}/slack/events`, slashCommandBody(text, { channel: CHANNEL }), {
      secret: SECRET,
      contentType: 'form',
    });
    expect(res.status).toBe(200);
    return JSON.stringify(res.json);
  };

  it('refuses a directory outside the roots with one answer, whether or not it exists', async () => {
    const answers = await Promise.all(
      [outside, '/etc', '/proc/self', '/nonexistent-dir-heal', `${root}/../other-team/target`, 'target'].map(
        (p) => heal(`dbt ${p}`),
      ),
    );
    for (const a of answers) expect(a).toMatch(/only under the directories in HEAL_DBT_ROOTS/);
    // No existence oracle: the refusal text is identical for an existing dir, /proc, and a missing one.
    const bare = answers.map((a) => a.replaceAll(/dbt [^\s`"\\]+/g, 'dbt <path>'));
    expect(new Set(bare).size).toBe(1);
    const webhook = await fetch(`${stack.base}/alerts/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body: JSON.stringify({ platform: 'dbt', target: outside, id: 'roots-1' }),
    });
    expect(webhook.status).toBe(400);
    expect(await webhook.text()).toMatch(/HEAL_DBT_ROOTS/);
  });

  it('follows symlinks: a link under a root that leads outside is refused by the worker', async () => {
    const target = { platform: 'dbt' as const, path: `${root}/escape/target` };
    expect(await heal(`dbt ${target.path}`)).toMatch(/investigating|Investigating/);
    const key = `${stack.prefix}:incident:${incidentId(target)}`;
    const rec = await waitFor('the refused investigation to end', async () => {
      const r = await stack.redis.hgetall(key);
      return r.checkpoint === 'failed' ? r : undefined;
    });
    expect(rec.error ?? '').toMatch(/only under the directories in HEAL_DBT_ROOTS/);
    const thread = JSON.stringify(
      stack.slack.calls.filter((c) => c.body.channel === CHANNEL).map((c) => c.body),
    );
    expect(thread).toMatch(/only under the directories in HEAL_DBT_ROOTS/);
  }, 60_000);

  it('investigates a directory under a root, and nothing from outside reached Slack', async () => {
    const target = { platform: 'dbt' as const, path: `${root}/shop/target` };
    await heal(`dbt ${target.path}`);
    const rec = await waitPublished(stack, incidentId(target));
    expect(rec.report ?? '').toContain('dbt.missing_column');
    await waitFor('every Slack call recorded', async () => stack.slack.calls.length > 3);
    const wire = JSON.stringify(stack.slack.calls.map((c) => c.body));
    expect(wire).not.toContain(CANARY);
    expect(wire).toContain('INSIDE');
  }, 60_000);
});
