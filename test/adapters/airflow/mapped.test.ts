import { afterEach, describe, expect, it } from 'vitest';
import { airflowAdapter } from '../../../src/adapters/airflow/index.ts';
import { airflowRerun, failedTries } from '../../../src/adapters/airflow/rerun.ts';
import type { PinResult } from '../../../src/adapters/types.ts';
import {
  DAG,
  FAILED_INDEX,
  fakeMappedAirflow,
  MAPPED,
  OTHER_IMPORT_ERRORS,
  RUN,
} from './fakeMappedAirflow.ts';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function investigate(major: 2 | 3) {
  const fake = await fakeMappedAirflow(major);
  close = fake.close;
  const pin = await airflowAdapter.pin({ platform: 'airflow', dagId: DAG, runId: RUN }, fake.ctx);
  if (pin.status !== 'ok') throw new Error(`pin failed: ${pin.message}`);
  const collection = await airflowAdapter.collect(pin.data, fake.ctx);
  const outcome = airflowAdapter.rules(collection, pin.data);
  return { fake, pin: pin.data, collection, outcome };
}

describe.each([2, 3] as const)('Airflow %i: 150 mapped instances, index 140 failed', (major) => {
  it('pages through task instances and import errors past the 100-row cap', async () => {
    const { fake, collection } = await investigate(major);
    expect(collection.facts.taskInstances).toHaveLength(MAPPED + 2);
    expect(collection.facts.otherImportErrors).toBe(OTHER_IMPORT_ERRORS);
    const lists = fake.requests.filter((r) => /\/taskInstances\?|\/importErrors\?/.test(r));
    expect(lists.every((r) => /limit=100\b/.test(r))).toBe(true);
    expect(lists.some((r) => /offset=100\b/.test(r))).toBe(true);
  });

  it('pins, reads and names load[140]: its tries, its log (map_index=140) and the culprit', async () => {
    const { fake, pin, collection, outcome } = await investigate(major);
    expect(pin.pinned.ref).toBe(`${DAG}/${RUN}#load[${FAILED_INDEX}]:try2`);
    expect(failedTries(pin)).toEqual([{ taskId: 'load', mapIndex: FAILED_INDEX, tryNumber: 2 }]);
    expect(fake.requests).toContainEqual(expect.stringMatching(/\/taskInstances\/load\/140\/tries$/));
    const logs = fake.requests.filter((r) => r.includes('/taskInstances/load/logs/'));
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((r) => /[?&]map_index=140\b/.test(r))).toBe(true);
    expect(collection.facts.tries.load?.map((t) => t.tryNumber)).toEqual([1, 2]);
    const log = collection.evidence.find((e) => e.source === 'airflow.log' && e.title.includes('try 2'));
    expect(log?.title).toContain(`load[${FAILED_INDEX}]`);
    expect(log?.excerpt).toMatch(/SIGKILL/);
    expect(collection.evidence.find((e) => e.source === 'airflow.task')?.title).toContain('load[140]');
    const top = outcome.findings.find((f) => f.status === 'confirmed' && f.category === 'airflow.oom_killed');
    expect(top?.culprit).toEqual({ kind: 'task', id: `load[${FAILED_INDEX}]` });
    expect(collection.gaps).toEqual([]);
  });

  it('clears only the failed map index (Airflow 3: a [task_id, map_index] pair) and follows it', async () => {
    const { fake, pin } = await investigate(major);
    const plan = await airflowRerun.preview(pin, fake.ctx);
    expect(plan.status).toBe('ok');
    const started = await airflowRerun.execute(pin, fake.ctx);
    expect(started.status).toBe('ok');
    const want = major === 3 ? [['load', FAILED_INDEX]] : ['load'];
    expect(fake.clears.map((b) => [b.dry_run, b.task_ids, b.only_failed])).toEqual([
      [true, want, true],
      [false, want, true],
    ]);
    if (major === 3 && plan.status === 'ok') expect(plan.data.items).toEqual(['load[140]', 'report']);
    if (started.status !== 'ok') return;
    const progress = await airflowRerun.follow(pin, started.data, fake.ctx);
    expect(progress).toMatchObject({ status: 'ok', data: { state: 'running' } });
    expect(fake.requests).toContainEqual(expect.stringMatching(/GET .*\/taskInstances\/load\/140$/));
  });
});

describe('failedTries', () => {
  it('reads unmapped and mapped failed instances from the pin', () => {
    const pin: PinResult = {
      pinned: {
        ref: `${DAG}/${RUN}@v3#a:try1#load[7]:try2`,
        codeRef: null,
        dataRef: null,
        deterministic: false,
      },
      target: { platform: 'airflow', dagId: DAG, runId: RUN },
    };
    expect(failedTries(pin)).toEqual([
      { taskId: 'a', tryNumber: 1 },
      { taskId: 'load', mapIndex: 7, tryNumber: 2 },
    ]);
  });
});
