/** Rendering benchmark: the thread parent, evidence replies and terminal text for a real report. */
import { join } from 'node:path';
import { expandScenario, loadScenario, startFixtureServer } from '../src/cli/fixture-server.ts';
import { investigateInProcess } from '../src/cli/investigate.ts';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/logger.ts';
import type { Report } from '../src/core/report.ts';
import { parseTarget } from '../src/core/target.ts';
import { renderEvidenceReplies, renderParent } from '../src/report/blocks.ts';
import { renderText } from '../src/report/text.ts';
import { ROOT } from '../test/support/runHeal.ts';

async function realReport(): Promise<Report> {
  const scenario = loadScenario(join(ROOT, 'examples', 'spark-skew-hot-customer-oom'));
  const server = await startFixtureServer(scenario.dir);
  try {
    const { target, env } = expandScenario(scenario, server.base);
    const parsed = parseTarget(target.join(' '));
    if (!parsed.ok) throw new Error(parsed.error);
    const out = await investigateInProcess(parsed.target, {
      config: loadConfig(env),
      log: createLogger('silent'),
      localRoots: 'any',
    });
    if (!out.ok) throw new Error(out.message);
    return out.report;
  } finally {
    await server.close();
  }
}

export async function benchRender(iterations = 500): Promise<string> {
  const report = await realReport();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    renderParent({ incidentId: report.id, target: report.target, phase: 'diagnosed', report });
    renderEvidenceReplies(report);
    renderText(report);
  }
  const perRun = (performance.now() - t0) / iterations;
  return `render: parent + ${renderEvidenceReplies(report).length} evidence replies + text in ${perRun.toFixed(2)} ms per report (${report.evidence.length} evidence items)`;
}

if (process.argv[1]?.endsWith('render.ts')) console.log(await benchRender());
