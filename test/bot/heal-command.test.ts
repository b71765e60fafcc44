import { describe, expect, it } from 'vitest';
import { decideHeal } from '../../src/bot/listeners/heal-command.ts';
import { isSupportedPlatform } from '../../src/jobs/queue.ts';

const text = (d: ReturnType<typeof decideHeal>) => ('reply' in d ? JSON.stringify(d.reply) : '');

describe('/heal decisions', () => {
  it('answers help', () => {
    expect(decideHeal('help', isSupportedPlatform).kind).toBe('help');
    expect(decideHeal('  HELP ', isSupportedPlatform).kind).toBe('help');
  });

  it('names the word it did not understand, with the grammar and an example', () => {
    const d = decideHeal('sprak app-1', isSupportedPlatform);
    expect(d.kind).toBe('error');
    expect(text(d)).toContain('sprak');
    expect(text(d)).toContain('airflow');
    expect(text(d)).toMatch(/Example/);
  });

  it('says an application id is needed for a bare `spark`', () => {
    expect(text(decideHeal('spark', isSupportedPlatform))).toMatch(/needs an application id/);
  });

  it('says other platforms are not supported yet', () => {
    const d = decideHeal('dbt cloud 70403103', (p) => p !== 'dbt');
    expect(d.kind).toBe('unsupported');
    expect(text(d)).toMatch(/dbt is not supported yet/);
  });

  it('maps the same run (id or URL) to the same deterministic incident id', () => {
    const a = decideHeal('spark app-20261120021500-0042', isSupportedPlatform);
    const b = decideHeal('spark app-20261120021500-0042', isSupportedPlatform);
    expect(a.kind).toBe('investigate');
    if (a.kind === 'investigate' && b.kind === 'investigate') {
      expect(a.incidentId).toMatch(/^inc_[0-9a-f]{16}$/);
      expect(a.incidentId).toBe(b.incidentId);
    }
  });
});
