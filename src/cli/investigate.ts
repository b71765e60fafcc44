import type { AdapterContext, Collection } from '../adapters/types.ts';
import { errorMessage, PermanentError } from '../core/errors.ts';
import { incidentId } from '../core/incident.ts';
import type { Report } from '../core/report.ts';
import type { Target } from '../core/target.ts';
import { unpinnedReport } from '../diagnosis/engine.ts';
import { proposeFix } from '../diagnosis/fix.ts';
import { collectStep, diagnoseStep, pinStep } from '../diagnosis/investigate.ts';
import { secondOpinion } from '../diagnosis/second-opinion.ts';

export type InvestigateOutcome = { ok: true; report: Report } | { ok: false; message: string };

/** The whole investigation in-process (no Redis): pin, collect, diagnose. */
export async function investigateInProcess(target: Target, ctx: AdapterContext): Promise<InvestigateOutcome> {
  const id = incidentId(target);
  try {
    const pinned = await pinStep(target, ctx);
    if (pinned.status !== 'ok') return { ok: true, report: unpinnedReport(id, target, pinned.message) };
    ctx.log.info({ ref: pinned.data.pinned.ref }, 'pinned');
    const collection = await collectStep(pinned.data, ctx);
    ctx.log.info({ evidence: collection.evidence.length, gaps: collection.gaps.length }, 'collected');
    const rules = diagnoseStep(id, pinned.data, collection);
    const report = await secondOpinion(rules, ctx, { onProgress: (text) => ctx.log.info(text) });
    return { ok: true, report: await withFix(report, collection, ctx) };
  } catch (err) {
    if (err instanceof PermanentError) return { ok: false, message: err.message };
    throw err;
  }
}

/**
 * The proposed change in `remediation.fix`, when a repository mapping (HEAL_REPOS_FILE) says where the code
 * lives and a template (or Claude) yields a valid diff. Proposing never writes anything.
 */
async function withFix(report: Report, collection: Collection, ctx: AdapterContext): Promise<Report> {
  if (!ctx.config.HEAL_REPOS_FILE || !report.rootCause) return report;
  const out = await proposeFix(report, collection, ctx);
  if (!out.fix) {
    ctx.log.info({ why: out.words }, 'no fix proposed');
    return report;
  }
  return { ...report, remediation: { ...report.remediation, fix: out.fix } };
}

export { errorMessage };
