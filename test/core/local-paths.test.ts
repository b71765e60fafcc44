import { describe, expect, it } from 'vitest';
import { checkRootLexical, rootRefusal, untrustedPathRefusal } from '../../src/core/local-paths.ts';

const ROOTS = ['/srv/dbt', '/data/projects/'];

describe('local dbt paths from Slack, alerts and webhooks (HEAL_DBT_ROOTS)', () => {
  it('accepts absolute paths under a root', () => {
    expect(checkRootLexical('/srv/dbt', ROOTS)).toEqual({ ok: true, path: '/srv/dbt' });
    expect(checkRootLexical('/srv/dbt/shop/target', ROOTS)).toEqual({
      ok: true,
      path: '/srv/dbt/shop/target',
    });
    expect(checkRootLexical('/data/projects/a/target/', ROOTS)).toMatchObject({ ok: true });
  });

  it('refuses paths outside, relative paths, `..` segments, NUL bytes and a root-name prefix', () => {
    for (const p of [
      '/etc',
      '/proc/self',
      'target',
      './target',
      '/srv/dbt/../../etc/shadow',
      '/srv/dbt/shop/..',
      '/srv/dbtx/target',
      '/srv/dbt\0/target',
      '',
    ])
      expect(checkRootLexical(p, ROOTS), p).toEqual({ ok: false, reason: rootRefusal(ROOTS) });
  });

  it('refuses every path when no root is configured, with words that say how to allow them', () => {
    expect(checkRootLexical('/srv/dbt/shop/target', [])).toMatchObject({ ok: false });
    expect(rootRefusal([])).toMatch(/until HEAL_DBT_ROOTS lists/);
  });

  it('gives one refusal whatever the path, so it cannot tell what exists', () => {
    const a = untrustedPathRefusal({ platform: 'dbt', path: '/etc' }, ROOTS);
    const b = untrustedPathRefusal({ platform: 'dbt', path: '/no/such/dir' }, ROOTS);
    expect(a).toBeDefined();
    expect(a).toBe(b);
    expect(a).not.toContain('/etc');
    expect(untrustedPathRefusal({ platform: 'dbt', path: '/srv/dbt/x' }, ROOTS)).toBeUndefined();
    expect(untrustedPathRefusal({ platform: 'spark' }, [])).toBeUndefined();
  });
});
