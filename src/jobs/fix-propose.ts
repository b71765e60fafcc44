/**
 * After diagnosis: the fix proposal for a failed run with a root cause (src/diagnosis/fix.ts), folded into
 * the report. `remediation.fix` is set only for a validated proposal (the Approve fix button depends on it);
 * without one, the thread's "what to do next" carries the words saying what to change and why no button.
 */
import type { AdapterContext, Collection } from '../adapters/types.ts';
import { errorMessage } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import { type FixOutcome, type FixProposal, proposeFix } from '../diagnosis/fix.ts';

export type Propose = (report: Report, collection: Collection, ctx: AdapterContext) => Promise<FixOutcome>;

export async function attachFix(
  report: Report,
  collection: Collection,
  ctx: AdapterContext,
  propose: Propose = proposeFix,
): Promise<{ report: Report; proposal: FixProposal | null }> {
  if (!report.rootCause) return { report, proposal: null };
  let out: FixOutcome;
  try {
    out = await propose(report, collection, ctx);
  } catch (err) {
    // proposeFix turns upstream failures into words; a throw is a bug, but it must not lose the diagnosis.
    ctx.log.error({ err: errorMessage(err) }, 'fix proposal threw');
    return { report, proposal: null };
  }
  const remediation = out.proposal
    ? { ...report.remediation, fix: out.fix }
    : { ...report.remediation, fix: null, summary: out.words || report.remediation.summary };
  return { report: { ...report, remediation }, proposal: out.proposal };
}
