import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memToMiB, readConf, setConf } from '../../../src/adapters/git/conf.ts';
import { RepoEntry } from '../../../src/adapters/git/repos.ts';
import { proposeFix } from '../../../src/diagnosis/fix.ts';
import { git, type SeededRepo, scenarioDir, scenarioReport, seedBareRepo, testCtx } from '../git/helpers.ts';

const DEFAULTS = `# orders_enrichment job settings
spark.executor.memory            8g
spark.executor.memoryOverhead    1024m
spark.executor.cores             4
spark.sql.shuffle.partitions     48
spark.sql.adaptive.enabled       true
spark.sql.adaptive.skewJoin.enabled false
`;

const SUBMIT = `#!/usr/bin/env bash
set -euo pipefail
spark-submit \\
  --master yarn --deploy-mode cluster \\
  --conf spark.executor.memory=6g \\
  --conf spark.executor.memoryOverhead=1024m \\
  --conf spark.sql.execution.arrow.pyspark.enabled=true \\
  jobs/score_listings/score.py "$@"
`;

const mapping = (url: string) =>
  RepoEntry.parse({
    repo: 'acme/spark-jobs',
    url,
    spark: [
      { app: 'orders_enrichment', conf: 'jobs/orders_enrichment/spark-defaults.conf' },
      { app: 'score_listings_pandas', conf: 'jobs/score_listings/submit.sh' },
    ],
  });

const seeded: SeededRepo = seedBareRepo({
  'jobs/orders_enrichment/spark-defaults.conf': DEFAULTS,
  'jobs/score_listings/submit.sh': SUBMIT,
  'jobs/score_listings/score.py': 'print("score")\n',
});
afterAll(() => seeded.dispose());

const hasPytest = spawnSync('python3', ['-c', 'import pytest']).status === 0;

/** Runs the prevention test on the base commit (the pinned failing settings), then with the fix applied. */
function pytestBeforeAfter(
  fixDiff: string,
  testDiff: string,
): { before: number | null; after: number | null } {
  const dir = mkdtempSync(join(tmpdir(), 'heal-pytest-'));
  try {
    git(dir, 'clone', '--quiet', seeded.url, 'w');
    const w = join(dir, 'w');
    const run = () =>
      spawnSync('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'jobs'], { cwd: w }).status;
    spawnSync('git', ['apply', '-'], { cwd: w, input: testDiff });
    const before = run();
    spawnSync('git', ['apply', '-'], { cwd: w, input: fixDiff });
    return { before, after: run() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const changed = (diff: string) => diff.split('\n').filter((l) => /^[+-](?![+-]{2} )/.test(l));

describe('conf edits', () => {
  it('rewrites a spark-defaults value in place and appends a missing key in the file style', () => {
    const next = setConf(DEFAULTS, { 'spark.sql.adaptive.skewJoin.enabled': 'true', 'spark.x.y': '1' });
    expect(readConf(next, ['spark.sql.adaptive.skewJoin.enabled', 'spark.x.y'])).toEqual({
      'spark.sql.adaptive.skewJoin.enabled': 'true',
      'spark.x.y': '1',
    });
    expect(next.split('\n').filter((l) => l.includes('skewJoin'))).toHaveLength(1);
  });

  it('adds a --conf line to a submit script, keeping the continuation', () => {
    const next = setConf(SUBMIT, { 'spark.sql.adaptive.skewJoin.enabled': 'true' });
    expect(next).toContain(
      '  --conf spark.sql.adaptive.skewJoin.enabled=true \\\n  jobs/score_listings/score.py',
    );
  });

  it('reads Spark memory sizes as MiB (no suffix is MiB)', () => {
    expect([memToMiB('4g'), memToMiB('1024m'), memToMiB('1536'), memToMiB('x')]).toEqual([
      4096,
      1024,
      1536,
      undefined,
    ]);
  });
});

describe('Spark fix templates on the public scenarios', () => {
  it('spark-skew-hot-customer-oom: enables AQE skew join in the job conf, with a conf check', async () => {
    const { report, collection } = await scenarioReport(scenarioDir('spark-skew-hot-customer-oom'));
    const out = await proposeFix(report, collection, testCtx(), { repos: [mapping(seeded.url)] });
    expect(out.proposal?.template, out.words).toBe('spark.aqe_skew_join');
    expect(out.fix?.files).toEqual(['jobs/orders_enrichment/spark-defaults.conf']);
    expect(changed(out.fix?.diff ?? '')).toEqual([
      '-spark.sql.adaptive.skewJoin.enabled false',
      '+spark.sql.adaptive.skewJoin.enabled true',
    ]);
    expect(out.prevention?.files).toEqual(['jobs/orders_enrichment/test_heal_orders_enrichment_conf.py']);
    expect(out.prevention?.why).toMatch(/skewJoin\.enabled=false/);
    if (hasPytest)
      expect(pytestBeforeAfter(out.fix?.diff ?? '', out.prevention?.diff ?? '')).toEqual({
        before: 1,
        after: 0,
      });
  });

  it('spark-yarn-overhead-pandas-udf: raises memoryOverhead to the measured off-heap need', async () => {
    const { report, collection } = await scenarioReport(scenarioDir('spark-yarn-overhead-pandas-udf'));
    const out = await proposeFix(report, collection, testCtx(), { repos: [mapping(seeded.url)] });
    expect(out.proposal?.template, out.words).toBe('spark.memory_overhead');
    const lines = changed(out.fix?.diff ?? '');
    expect(lines[0]).toBe('-  --conf spark.executor.memoryOverhead=1024m \\');
    const mib = Number(/memoryOverhead=(\d+)m/.exec(lines[1] ?? '')?.[1]);
    // Python workers peaked at ~3.8 GiB RSS on executor 1: the new overhead covers that with headroom.
    expect(mib).toBeGreaterThanOrEqual(4096);
    expect(mib % 512).toBe(0);
    expect(mib).toBeLessThanOrEqual(8192);
    expect(out.words).toMatch(/executor \d+ used \d\.\d GiB off-heap/);
    expect(out.prevention?.diff).toMatch(/assert mib\(setting\("spark\.executor\.memoryOverhead"\)\) >= \d+/);
    if (hasPytest)
      expect(pytestBeforeAfter(out.fix?.diff ?? '', out.prevention?.diff ?? '')).toEqual({
        before: 1,
        after: 0,
      });
  });

  it('names the missing mapping when the app name is not mapped', async () => {
    const { report, collection } = await scenarioReport(scenarioDir('spark-skew-hot-customer-oom'));
    const other = RepoEntry.parse({
      repo: 'acme/x',
      url: seeded.url,
      spark: [{ app: 'nightly_other', conf: 'a.conf' }],
    });
    const out = await proposeFix(report, collection, testCtx(), { repos: [other] });
    expect(out.fix).toBeNull();
    expect(out.words).toMatch(/No repository is mapped to this Spark job \(app name orders_enrichment/);
  });
});
