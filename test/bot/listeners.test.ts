import { describe, expect, it } from 'vitest';
import { Approvers } from '../../src/bot/listeners/approvers.ts';
import { parseClick } from '../../src/bot/listeners/click.ts';
import { listRequest } from '../../src/bot/listeners/heal-command.ts';
import { createLogger } from '../../src/core/logger.ts';

const log = createLogger('silent');

describe('approvers', () => {
  it('accepts listed users and members of listed user groups, resolving each group once per minute', async () => {
    let lookups = 0;
    const a = new Approvers(
      ['U0ALICE', 'S0ONCALL'],
      async () => {
        lookups++;
        return ['U0BOB'];
      },
      log,
    );
    expect(await a.check('U0ALICE')).toEqual({ ok: true, via: 'U0ALICE' });
    expect(await a.check('U0BOB')).toEqual({ ok: true, via: 'S0ONCALL' });
    expect((await a.check('U0EVE')).ok).toBe(false);
    expect(lookups).toBe(1);
  });

  it('approves nobody when the list is empty or a group cannot be resolved', async () => {
    expect(await new Approvers([], async () => [], log).check('U0ALICE')).toMatchObject({ ok: false });
    const failing = new Approvers(['S0X'], async () => Promise.reject(new Error('no_such_subteam')), log);
    expect((await failing.check('U0BOB')).ok).toBe(false);
  });
});

describe('button payloads and /heal status|history', () => {
  it('parses a block_actions payload and rejects a value that is not an incident id', () => {
    const body = {
      user: { id: 'U1' },
      channel: { id: 'C1' },
      container: { message_ts: '1.1', thread_ts: '1.0' },
      actions: [{ action_id: 'heal_rerun', value: 'inc_0a1b' }],
    };
    expect(parseClick(body)).toEqual({
      user: 'U1',
      action: 'heal_rerun',
      incidentId: 'inc_0a1b',
      channel: 'C1',
      threadTs: '1.0',
      messageTs: '1.1',
      ephemeral: false,
    });
    const bad = { ...body, actions: [{ action_id: 'heal_rerun', value: '../../x' }] };
    expect(parseClick(bad)?.incidentId).toBeUndefined();
    expect(parseClick({ actions: [] })).toBeUndefined();
  });

  it('recognises status and history', () => {
    expect(listRequest(' STATUS ')).toEqual({ kind: 'status' });
    expect(listRequest('history revenue_daily')).toEqual({ kind: 'history', name: 'revenue_daily' });
    expect(listRequest('history')).toEqual({ kind: 'history', name: '' });
    expect(listRequest(' Digest ')).toEqual({ kind: 'digest' });
    expect(listRequest('spark app-1')).toBeUndefined();
  });
});
