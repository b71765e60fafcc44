import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Report } from '../../src/core/report.ts';
import { git, type SeededRepo, seedBareRepo } from '../adapters/git/helpers.ts';
import { investigateScenario, ROOT } from '../support/runHeal.ts';

const DEFAULTS =
  'spark.executor.memory 8g\nspark.sql.adaptive.enabled true\nspark.sql.adaptive.skewJoin.enabled false\n';

describe('heal investigate --json carries the proposed fix when the code is mapped (HEAL_REPOS_FILE)', () => {
  const seeded: SeededRepo = seedBareRepo({ 'jobs/orders_enrichment/spark-defaults.conf': DEFAULTS });
  const dir = mkdtempSync(join(tmpdir(), 'heal-repos-'));
  const reposFile = join(dir, 'repos.yaml');
  writeFileSync(
    reposFile,
    [
      'repos:',
      '  - repo: acme/spark-jobs',
      `    url: ${seeded.url}`,
      '    spark:',
      '      - app: orders_enrichment',
      '        conf: jobs/orders_enrichment/spark-defaults.conf',
      '',
    ].join('\n'),
  );
  afterAll(() => seeded.dispose());

  it('fills remediation.fix with a one-file diff and writes nothing', async () => {
    const { run, report } = await investigateScenario(
      join(ROOT, 'test/scenarios/spark-skew-hot-customer-oom'),
      {
        HEAL_REPOS_FILE: reposFile,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const r = Report.parse(report);
    expect(r.rootCause?.category).toBe('spark.data_skew');
    expect(r.remediation.fix?.files).toEqual(['jobs/orders_enrichment/spark-defaults.conf']);
    expect(r.remediation.fix?.diff).toMatch(/\+spark\.sql\.adaptive\.skewJoin\.enabled true/);
    expect(git(seeded.url, 'branch', '--list')).not.toMatch(/heal\//);
    expect(git(seeded.url, 'rev-parse', 'main')).toBe(seeded.sha);
  });
});
