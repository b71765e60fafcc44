import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectSnapshot } from '../../../src/adapters/spark/collect.ts';
import { buildEvidence } from '../../../src/adapters/spark/evidence.ts';
import { pinSpark } from '../../../src/adapters/spark/index.ts';
import { sparkRules } from '../../../src/adapters/spark/rules.ts';
import type { AdapterContext } from '../../../src/adapters/types.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';
import { parseTarget } from '../../../src/core/target.ts';
import { type FixtureServer, loadScenario, startFixtureServer } from '../../support/fixtureServer.ts';

const SCENARIOS = join(import.meta.dirname, '..', '..', 'scenarios');
const names = readdirSync(SCENARIOS).filter((d) => d.startsWith('spark-'));

let server: FixtureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('collect → buildEvidence → sparkRules over every public Spark scenario', () => {
  it.each(names)('%s', async (name) => {
    const dir = join(SCENARIOS, name);
    const sc = loadScenario(dir);
    server = await startFixtureServer(dir);
    const ctx: AdapterContext = {
      config: loadConfig({ SPARK_HISTORY_URL: server.base }),
      log: createLogger('silent'),
    };
    const target = parseTarget(sc.target);
    if (!target.ok) throw new Error(target.error);
    const pin = await pinSpark(target.target, ctx);
    if (pin.status !== 'ok') throw new Error(pin.message);
    const { snapshot, gaps } = await collectSnapshot(pin.data, ctx);
    const { evidence, evidenceIndex } = buildEvidence(snapshot, gaps);
    const out = sparkRules({ evidence, evidenceIndex, gaps, facts: snapshot }, pin.data);

    const confirmed = out.findings.filter((f) => f.status === 'confirmed');
    expect(confirmed.length).toBeLessThanOrEqual(1);
    const top = confirmed[0];
    if (sc.expect.category === null) {
      expect(top).toBeUndefined();
      return;
    }
    expect(out.failed).toBe(true);
    expect(top?.category).toBe(sc.expect.category);
    expect(top?.decisive).toBe(true);
    const ids = [sc.expect.culprit?.id, ...(sc.expect.culprit?.aliases ?? [])].map((x) => x?.toLowerCase());
    if (sc.expect.culprit) expect(ids).toContain(top?.culprit?.id.toLowerCase());
    for (const alt of sc.expect.alternatives)
      expect(out.findings.find((f) => f.category === alt)?.status ?? 'absent').not.toBe('confirmed');
    const known = new Set(evidence.map((e) => e.id));
    for (const f of out.findings)
      for (const id of [...f.evidenceFor, ...f.evidenceAgainst]) expect(known).toContain(id);
    expect(top?.evidenceFor.length).toBeGreaterThan(0);
  });
});
