import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Long, mostly idle files first (the 50-incident load test waits on Slack's 1 post/s/channel; chaos and
 * end-to-end files wait on processes), so they overlap with the rest instead of finishing alone.
 */
const SLOW_FIRST = [
  /\/e2e\/load\./,
  /\/cli\/variants\./,
  /\/chaos\//,
  /\/cli\/scenarios\./,
  /\/e2e\//,
  /\/cli\//,
];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((re) => re.test(f.moduleId));
      return i === -1 ? SLOW_FIRST.length : i;
    };
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The suite waits on processes, sockets and Slack pacing far more than on CPU (about a third of two
    // cores when run one file at a time), so it runs more files than cores at once (3: 4 starved the chaos tests of CPU).
    maxWorkers: 3,
    sequence: { sequencer: SlowFirst },
  },
});
