import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbtAdapter } from '../../../src/adapters/dbt/index.ts';
import { checkRoot } from '../../../src/adapters/dbt/roots.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';

const FILES = join(import.meta.dirname, '..', '..', 'scenarios', 'dbt-missing-column-fct-orders', 'files');

describe('the worker reads local dbt artifacts only under HEAL_DBT_ROOTS, symlinks followed', () => {
  let tmp: string;
  let root: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'heal-roots-unit-'));
    root = join(tmp, 'root');
    mkdirSync(root);
    cpSync(FILES, join(tmp, 'outside'), { recursive: true });
    cpSync(FILES, join(root, 'shop'), { recursive: true });
    symlinkSync(join(tmp, 'outside'), join(root, 'escape'));
    symlinkSync(join(root, 'shop'), join(root, 'alias'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('refuses a symlink under a root that leads outside, accepts one that stays inside', async () => {
    expect(await checkRoot(join(root, 'escape', 'target'), [root])).toMatchObject({ ok: false });
    expect(await checkRoot(join(root, 'alias', 'target'), [root])).toEqual({
      ok: true,
      path: join(root, 'shop', 'target'),
    });
  });

  it('pins only under the roots unless a human typed the path (CLI)', async () => {
    const log = createLogger('silent');
    const config = loadConfig({ HEAL_DBT_ROOTS: root });
    const outside = { platform: 'dbt' as const, path: join(tmp, 'outside', 'target') };
    const refused = await dbtAdapter.pin(outside, { config, log });
    expect(refused).toMatchObject({ status: 'error' });
    expect(refused.status !== 'ok' && refused.message).toMatch(/HEAL_DBT_ROOTS/);
    expect(refused.status !== 'ok' && refused.message).not.toContain(tmp);
    expect((await dbtAdapter.pin(outside, { config, log, localRoots: 'any' })).status).toBe('ok');
    const inside = { platform: 'dbt' as const, path: join(root, 'shop', 'target') };
    const pin = await dbtAdapter.pin(inside, { config, log });
    expect(pin.status).toBe('ok');
  });

  it('reads history/ and logs/ beside target/ only when they are under a root too', async () => {
    const log = createLogger('silent');
    const config = loadConfig({ HEAL_DBT_ROOTS: join(root, 'shop', 'target') });
    const inside = { platform: 'dbt' as const, path: join(root, 'shop', 'target') };
    const pin = await dbtAdapter.pin(inside, { config, log });
    if (pin.status !== 'ok') throw new Error(pin.message);
    const col = await dbtAdapter.collect(pin.data, { config, log });
    expect(col.gaps.join('\n')).toMatch(/history\/ and logs\/ next to target\/ were not read/);
  });
});
