import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDeps } from '../../src/bot/deps.ts';
import { Approvers } from '../../src/bot/listeners/approvers.ts';
import type { Click } from '../../src/bot/listeners/click.ts';
import { handleDismiss, handleUndismiss } from '../../src/bot/listeners/dismiss.ts';
import type { Config } from '../../src/core/config.ts';
import { AuditLog } from '../../src/jobs/audit.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import type { SlackMessage } from '../../src/report/types.ts';
import {
  cleanPrefix,
  newRedis,
  sampleReport,
  silentLog,
  TARGET,
  testConfig,
  uniquePrefix,
} from '../jobs/helpers.ts';

const CHANNEL = 'C0DISMISS';
const PARENT = '1700000000.000100';
const APPROVER = 'U0APPROVER';

describe('Dismiss: who may, from where, audited, undoable', () => {
  let redis: Redis;
  let incidents: IncidentStore;
  let audit: AuditLog;
  const prefix = uniquePrefix('dismiss');
  const told: Array<{ user: string; text: string }> = [];
  const updates: SlackMessage[] = [];
  const depsFor = (config: Config): BotDeps =>
    ({
      config,
      log: silentLog,
      incidents,
      audit,
      slack: {
        postEphemeral: async (_c: string, user: string, msg: SlackMessage) =>
          void told.push({ user, text: msg.text }),
        update: async (_c: string, _ts: string, msg: SlackMessage) => void updates.push(msg),
        usergroupMembers: async () => [],
        publishHome: async () => undefined,
      },
    }) as unknown as BotDeps;
  const approvers = new Approvers([APPROVER], async () => [], silentLog);

  const click = (user: string, id: string, over: Partial<Click> = {}): Click => ({
    user,
    action: 'heal_dismiss',
    incidentId: id,
    channel: CHANNEL,
    threadTs: undefined,
    messageTs: PARENT,
    ephemeral: false,
    ...over,
  });

  async function published(n: number): Promise<string> {
    const id = `inc_00d15${n}`;
    await incidents.claim({ incidentId: id, target: TARGET, channel: CHANNEL, source: 'command' });
    const pin = {
      pinned: { ref: 'app 7', codeRef: null, dataRef: null, deterministic: false },
      target: TARGET,
    };
    await incidents.checkpoint(id, 'published', { pin, report: sampleReport(id, pin) });
    await incidents.setParentTs(id, PARENT);
    return id;
  }

  beforeAll(() => {
    redis = newRedis();
    incidents = new IncidentStore(redis, prefix);
    audit = new AuditLog(redis, prefix);
  });
  afterAll(async () => {
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  it('refuses a channel member who is not an approver (default HEAL_DISMISSERS=approvers), and audits it', async () => {
    const deps = depsFor(testConfig(prefix, { HEAL_APPROVERS: APPROVER }));
    const id = await published(1);
    await handleDismiss(deps, approvers, click('U0STRANGER', id));
    expect((await incidents.get(id))?.dismissed).toBeUndefined();
    expect(told.at(-1)?.text).toMatch(/cannot dismiss/);
    expect(await incidents.ids('open', 10)).toContain(id);
    expect((await audit.list({ incident: id }))[0]).toMatchObject({ who: 'U0STRANGER', result: 'refused' });
  });

  it('acts only on a click from the incident own channel and thread parent', async () => {
    const deps = depsFor(testConfig(prefix, { HEAL_APPROVERS: APPROVER }));
    const id = await published(2);
    await handleDismiss(deps, approvers, click(APPROVER, id, { channel: 'C0OTHER' }));
    await handleDismiss(deps, approvers, click(APPROVER, id, { messageTs: '1700000000.999999' }));
    expect((await incidents.get(id))?.dismissed).toBeUndefined();
    expect(told.at(-1)?.text).toMatch(/not from this incident/);
    const entries = await audit.list({ incident: id });
    expect(entries.map((e) => e.result)).toEqual(['refused', 'refused']);
  });

  it('lets an approver dismiss (shown on the parent, alerts suppressed), and undo it (open again)', async () => {
    const deps = depsFor(testConfig(prefix, { HEAL_APPROVERS: APPROVER }));
    const id = await published(3);
    await handleDismiss(deps, approvers, click(APPROVER, id));
    expect((await incidents.get(id))?.dismissed?.by).toBe(APPROVER);
    expect(await incidents.ids('open', 10)).not.toContain(id);
    expect(await incidents.resolvedAt(id)).toBeDefined();
    const parent = JSON.stringify(updates.at(-1));
    expect(parent).toContain(`<@${APPROVER}> dismissed this incident`);
    expect(parent).toContain('heal_undismiss');

    await handleUndismiss(deps, approvers, click('U0STRANGER', id, { action: 'heal_undismiss' }));
    expect((await incidents.get(id))?.dismissed).toBeDefined();
    await handleUndismiss(deps, approvers, click(APPROVER, id, { action: 'heal_undismiss' }));
    expect((await incidents.get(id))?.dismissed).toBeUndefined();
    expect(await incidents.ids('open', 10)).toContain(id);
    expect(await incidents.resolvedAt(id)).toBeUndefined();
    expect(JSON.stringify(updates.at(-1))).toContain('heal_dismiss');
    const results = (await audit.list({ incident: id })).map((e) => `${e.who} ${e.what} ${e.result}`);
    expect(results).toEqual([
      `${APPROVER} heal_undismiss done`,
      'U0STRANGER heal_undismiss refused',
      `${APPROVER} heal_dismiss done`,
    ]);
  });

  it('with HEAL_DISMISSERS=channel lets anyone in the incident channel dismiss and undo their own', async () => {
    const deps = depsFor(testConfig(prefix, { HEAL_DISMISSERS: 'channel' }));
    const none = new Approvers([], async () => [], silentLog);
    const id = await published(4);
    await handleDismiss(deps, none, click('U0MEMBER', id));
    expect((await incidents.get(id))?.dismissed?.by).toBe('U0MEMBER');
    await handleUndismiss(deps, none, click('U0MEMBER', id, { action: 'heal_undismiss' }));
    expect((await incidents.get(id))?.dismissed).toBeUndefined();
  });
});
