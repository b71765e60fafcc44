import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseArtifact } from '../../../src/adapters/dbt/artifacts.ts';
import { dbtAdapter } from '../../../src/adapters/dbt/index.ts';
import { RunResults, schemaVersionNote } from '../../../src/adapters/dbt/schema.ts';
import type { AdapterContext } from '../../../src/adapters/types.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';
import { artifactsFrom, cloudRun, startFakeDbtCloud } from '../../support/fakeDbtCloud.ts';

/**
 * Artifacts whose `metadata.dbt_schema_version` is outside what Heal knows (run_results v4–v6, manifest
 * v10–v12, sources v3: the schemas in ../shared/corpus/dbt/schemas) are still read, with a gap naming the
 * version, for local target/ dirs and for dbt Cloud runs alike.
 */
const SCEN = join(import.meta.dirname, '..', '..', 'scenarios');
const url = (kind: string, v: number) => `https://schemas.getdbt.com/dbt/${kind}/v${v}.json`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

type Json = { metadata: Record<string, unknown> } & Record<string, unknown>;
const withVersion = (art: unknown, version: string): Json => {
  const a = art as Json;
  return { ...a, metadata: { ...a.metadata, dbt_schema_version: version } };
};

/** A copy of a scenario's files/ with some artifacts' schema versions changed. */
function localCopy(scenario: string, versions: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'heal-dbt-versions-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(SCEN, scenario, 'files'), dir, { recursive: true });
  for (const [file, version] of Object.entries(versions)) {
    const path = join(dir, 'target', file);
    writeFileSync(path, JSON.stringify(withVersion(JSON.parse(readFileSync(path, 'utf8')), version)));
  }
  return join(dir, 'target');
}

async function investigate(
  target: { platform: 'dbt'; path?: string; cloudRunId?: string },
  ctx: AdapterContext,
) {
  const pin = await dbtAdapter.pin(target, ctx);
  if (pin.status !== 'ok') throw new Error(pin.message);
  const col = await dbtAdapter.collect(pin.data, ctx);
  return { col, out: dbtAdapter.rules(col, pin.data) };
}

const localCtx = (): AdapterContext => ({
  config: loadConfig({ LOG_LEVEL: 'silent' }),
  log: createLogger('silent'),
  localRoots: 'any',
});
const versionGaps = (gaps: string[]) => gaps.filter((g) => /schema v\d+/.test(g));

describe('dbt artifact schema versions Heal does not know are named as gaps', () => {
  it('every schema version in the corpus (the versions Heal knows) passes without a note', () => {
    // The `$id`s of ../shared/corpus/dbt/schemas/{manifest-v10..12,run-results-v4..6,sources-v3}.json (kept here:
    // CI's clone need not have shared/ beside it).
    const known: Array<[string, string, number]> = [
      ['manifest.json', 'manifest', 10],
      ['manifest.json', 'manifest', 11],
      ['manifest.json', 'manifest', 12],
      ['run_results.json', 'run-results', 4],
      ['run_results.json', 'run-results', 5],
      ['run_results.json', 'run-results', 6],
      ['sources.json', 'sources', 3],
    ];
    for (const [file, kind, v] of known)
      expect(schemaVersionNote(file, url(kind, v)), `${kind} v${v}`).toBeUndefined();
  });

  it('names newer and older versions, with the range Heal knows', () => {
    expect(schemaVersionNote('manifest.json', url('manifest', 13))).toBe(
      'manifest.json is schema v13, newer than Heal knows (v10–v12): fields may be missed',
    );
    expect(schemaVersionNote('run_results.json', url('run-results', 3))).toBe(
      'run_results.json is schema v3, older than Heal knows (v4–v6): fields may be missed',
    );
    expect(schemaVersionNote('sources.json', url('sources', 4))).toBe(
      'sources.json is schema v4, newer than Heal knows (v3): fields may be missed',
    );
    expect(schemaVersionNote('manifest.json', undefined)).toBeUndefined();
  });

  it('an artifact too changed to parse still names its unknown version in the error', () => {
    const text = JSON.stringify({ metadata: { dbt_schema_version: url('run-results', 7) }, nodes_run: [] });
    const r = parseArtifact(text, 'run_results.json', RunResults);
    expect(r.status).toBe('error');
    if (r.status === 'error')
      expect(r.message).toContain('run_results.json is schema v7, newer than Heal knows (v4–v6)');
  });

  it('local target/: an unknown version is a gap, and the artifacts are still read', async () => {
    const path = localCopy('dbt-missing-column-fct-orders', {
      'manifest.json': url('manifest', 13),
      'run_results.json': url('run-results', 3),
    });
    const { col, out } = await investigate({ platform: 'dbt', path }, localCtx());
    expect(versionGaps(col.gaps)).toEqual([
      'run_results.json is schema v3, older than Heal knows (v4–v6): fields may be missed',
      'manifest.json is schema v13, newer than Heal knows (v10–v12): fields may be missed',
    ]);
    expect(out.findings.find((f) => f.status === 'confirmed')?.category).toBe('dbt.missing_column');
  });

  it('local target/ with known versions: no version gap', async () => {
    const path = localCopy('dbt-source-freshness-error', {});
    const { col } = await investigate({ platform: 'dbt', path }, localCtx());
    expect(versionGaps(col.gaps)).toEqual([]);
  });

  it('dbt Cloud: an unknown sources.json version is a gap too', async () => {
    const art = artifactsFrom(join(SCEN, 'dbt-source-freshness-error', 'files', 'target'));
    art['sources.json'] = withVersion(art['sources.json'], url('sources', 4));
    const server = await startFakeDbtCloud({
      accountId: '1',
      token: 'tok',
      runs: [{ run: cloudRun(960, 7, 20), artifacts: art }],
    });
    cleanups.push(server.close);
    const ctx: AdapterContext = {
      config: loadConfig({ DBT_CLOUD_URL: server.base, DBT_CLOUD_ACCOUNT_ID: '1', DBT_CLOUD_TOKEN: 'tok' }),
      log: createLogger('silent'),
    };
    const { col, out } = await investigate({ platform: 'dbt', cloudRunId: '960' }, ctx);
    expect(versionGaps(col.gaps)).toEqual([
      'sources.json is schema v4, newer than Heal knows (v3): fields may be missed',
    ]);
    expect(out.findings.find((f) => f.status === 'confirmed')?.category).toBe('dbt.source_stale');
  });
});
