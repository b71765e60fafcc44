/**
 * Redis losing data (issue 13 item 8): a restart without persistence or an evicted key leaves incident
 * hashes gone, or partial when a worker wrote a few fields after the loss. The store must treat a record it
 * cannot parse as absent (logged once, with paths and not values), let a new claim replace it, and never
 * write fields into a hash that vanished.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { BotDeps } from '../../src/bot/deps.ts';
import { answerList } from '../../src/bot/listeners/heal-command.ts';
import type { Logger } from '../../src/core/logger.ts';
import { FixStore } from '../../src/jobs/fix-state.ts';
import { IncidentStore } from '../../src/jobs/incidents.ts';
import { cleanPrefix, REDIS_URL, sampleReport, TARGET, uniquePrefix } from './helpers.ts';

// db 9, like the end-to-end and chaos tests, plus a unique prefix.
const redis = new Redis(REDIS_URL, { db: 9, maxRetriesPerRequest: null });
const prefix = uniquePrefix('incidents-corrupt');
const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(...chunk.toString().trim().split('\n'));
    done();
  },
});
const log = pino({ level: 'warn' }, sink) as unknown as Logger;
const store = new (IncidentStore as unknown as new (r: Redis, p: string, l: Logger) => IncidentStore)(
  redis,
  prefix,
  log,
);
const PIN = {
  target: { ...TARGET, attempt: '1' },
  pinned: { ref: 'app-x/1', codeRef: null, dataRef: null, deterministic: true },
};
const SECRET_VALUE = 'xoxb-never-log-this-value';

const claimInput = (incidentId: string) => ({
  incidentId,
  target: TARGET,
  channel: 'C1',
  requestedBy: 'U1',
  source: 'command' as const,
});

/** What a worker's HSET after the loss used to leave: a checkpoint and a stage's output, nothing else. */
async function writePartial(incidentId: string): Promise<void> {
  await redis.hset(store.key(incidentId), {
    checkpoint: 'collected',
    pin: JSON.stringify(PIN),
    error: SECRET_VALUE,
  });
}

describe('IncidentStore over a corrupt or vanished record (real Redis)', () => {
  beforeEach(async () => {
    await cleanPrefix(redis, prefix);
    lines.length = 0;
  });
  afterAll(async () => {
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  it('treats a partial hash as absent, logging it once with the incident id and paths, not values', async () => {
    await writePartial('inc_00c0');
    expect(await store.get('inc_00c0')).toBeNull();
    expect(await store.get('inc_00c0')).toBeNull();
    const logged = lines.filter((l) => l.includes('inc_00c0'));
    expect(logged).toHaveLength(1);
    const entry = JSON.parse(logged[0] as string) as { incidentId: string; issues: string[] };
    expect(entry.incidentId).toBe('inc_00c0');
    expect(entry.issues.join(' ')).toMatch(/incidentId/);
    expect(entry.issues.join(' ')).toMatch(/channel/);
    expect(logged[0]).not.toContain(SECRET_VALUE);
    expect(logged[0]).not.toContain('app-x/1');
  });

  it('treats a record whose fields do not parse (bad JSON target) as absent', async () => {
    expect((await store.claim(claimInput('inc_00c1'))).claimed).toBe(true);
    await redis.hset(store.key('inc_00c1'), 'target', '{"platform":"spark",');
    expect(await store.get('inc_00c1')).toBeNull();
  });

  it('lets a new claim replace a partial record, which then parses in full', async () => {
    await writePartial('inc_00c2');
    const claim = await store.claim(claimInput('inc_00c2'));
    expect(claim.claimed).toBe(true);
    const rec = await store.get('inc_00c2');
    expect(rec).toMatchObject({ incidentId: 'inc_00c2', checkpoint: 'claimed', channel: 'C1' });
    expect(rec?.pin).toBeUndefined();
    expect(rec?.error).toBeUndefined();
    expect(await redis.ttl(store.key('inc_00c2'))).toBeGreaterThan(0);
  });

  it('lets a new claim replace a full-looking record that does not parse; concurrent claims still elect one', async () => {
    expect((await store.claim(claimInput('inc_00c3'))).claimed).toBe(true);
    await redis.hset(store.key('inc_00c3'), { checkpoint: 'exploded', report: 'not json' });
    const claims = await Promise.all(Array.from({ length: 8 }, () => store.claim(claimInput('inc_00c3'))));
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    expect((await store.get('inc_00c3'))?.checkpoint).toBe('claimed');
  });

  it('never writes fields into a hash that vanished (no partial record is resurrected)', async () => {
    const id = 'inc_00c4';
    expect((await store.claim(claimInput(id))).claimed).toBe(true);
    await redis.del(store.key(id));
    const writes: Array<[string, () => Promise<unknown>]> = [
      ['checkpoint', () => store.checkpoint(id, 'pinned', { pin: PIN })],
      ['checkpoint report', () => store.checkpoint(id, 'diagnosed', { report: sampleReport(id, PIN) })],
      ['published', () => store.checkpoint(id, 'published')],
      ['parentTs', () => store.setParentTs(id, '1700000000.000100')],
      ['repliesPosted', () => store.setRepliesPosted(id, 3)],
      ['permalink', () => store.setPermalink(id, 'https://example.slack.com/p1')],
      [
        'recurrence',
        () => store.setRecurrence(id, { signature: 's', seen: 2, windowDays: 7, escalate: false }),
      ],
      ['rerun', () => store.setRerun(id, { by: 'U1', at: 1, status: 'requested', polls: 0 })],
      ['dismiss', () => store.dismiss(id, 'U1', 1)],
      ['fix', () => new FixStore(redis, store).set(id, { by: 'U1', at: 1, status: 'requested' })],
      ['escalation', () => new FixStore(redis, store).firstEscalation(id, 'recurrence')],
    ];
    const landed: string[] = [];
    for (const [name, write] of writes) {
      await write().catch(() => undefined);
      if ((await redis.exists(store.key(id))) === 1) landed.push(name);
      await redis.del(store.key(id));
    }
    expect(landed).toEqual([]);
  });

  it('says the write found no record (so a worker can stop its job) instead of succeeding', async () => {
    await expect(store.checkpoint('inc_00c5', 'pinned', { pin: PIN })).rejects.toThrow(/inc_00c5/);
    await expect(store.setParentTs('inc_00c5', '1.2')).rejects.toThrow(/no longer stored|vanished|gone/i);
  });

  it('/heal status counts the records it could not read instead of dropping them silently', async () => {
    expect((await store.claim(claimInput('inc_00c6'))).claimed).toBe(true);
    expect((await store.claim(claimInput('inc_00c7'))).claimed).toBe(true);
    await redis.hset(store.key('inc_00c7'), 'target', 'garbage');
    const deps = { incidents: store } as unknown as BotDeps;
    const reply = JSON.stringify(await answerList(deps, { kind: 'status' }));
    expect(reply).toContain('inc_00c6');
    expect(reply).toMatch(/1 incident record could not be read/);
    expect(reply).not.toMatch(/invalid_type|ZodError|"path"/);
    // Still counted next time: a corrupt record is not removed from the open list behind anyone's back.
    expect(JSON.stringify(await answerList(deps, { kind: 'status' }))).toMatch(/could not be read/);
  });
});
