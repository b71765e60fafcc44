import { getAdapter } from '../adapters/registry.ts';
import type { AdapterContext, Collection, Finding, Link, PinResult, RuleOutcome } from '../adapters/types.ts';
import { errorMessage } from '../core/errors.ts';
import { untrustedPathRefusal } from '../core/local-paths.ts';
import type { Evidence } from '../core/report.ts';
import { describeTarget, targetKey } from '../core/target.ts';

/** A run on another platform that was followed from a link, collected but not yet merged. */
export interface LinkedRun {
  link: Link;
  pin: PinResult;
  collection: Collection;
}

/** A collection plus the linked runs that were followed (JSON-serialisable, checkpointed as one). */
export type CollectionWithLinks = Collection & { linked?: LinkedRun[] };

/** At most this many linked runs are followed per investigation (one hop, no recursion). */
export const MAX_LINKS = 2;

/**
 * Follows the links an adapter emitted (an Airflow task that launched a Spark app or a dbt run) when the
 * linked platform has an adapter and answers; what cannot be followed becomes a gap, never a crash.
 */
export async function followLinks(collection: Collection, ctx: AdapterContext): Promise<CollectionWithLinks> {
  const seen = new Set<string>();
  const links = (collection.links ?? []).filter((l) => {
    const key = targetKey(l.target);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (!links.length) return collection;
  const linked: LinkedRun[] = [];
  const gaps = [...collection.gaps];
  for (const link of links.slice(0, MAX_LINKS)) {
    const adapter = getAdapter(link.target.platform);
    const label = describeTarget(link.target);
    const refused = refusal(link, ctx);
    if (refused) {
      gaps.push(`Not followed: ${label} (${link.reason}) — ${refused}`);
      continue;
    }
    if (!adapter) {
      gaps.push(`Not followed: ${label} (${link.reason}) — ${link.target.platform} is not supported yet.`);
      continue;
    }
    try {
      // The linked run came from platform data: its local paths get the roots check, whoever asked.
      const linkCtx: AdapterContext = { ...ctx, localRoots: ctx.config.HEAL_DBT_ROOTS };
      const pin = await adapter.pin(link.target, linkCtx);
      if (pin.status !== 'ok') {
        gaps.push(`Could not follow ${label} (${link.reason}): ${pin.message}`);
        continue;
      }
      linked.push({ link, pin: pin.data, collection: await adapter.collect(pin.data, linkCtx) });
    } catch (err) {
      gaps.push(`Could not follow ${label} (${link.reason}): ${errorMessage(err)}`);
    }
  }
  return { ...collection, gaps, ...(linked.length ? { linked } : {}) };
}

/**
 * Logs are untrusted: a local dbt target/ path named in one is read only under a configured root
 * (HEAL_DBT_ROOTS), never anywhere on the bot's filesystem, even from the CLI.
 */
function refusal(link: Link, ctx: AdapterContext): string | undefined {
  return untrustedPathRefusal(link.target, ctx.config.HEAL_DBT_ROOTS);
}

function renumber(evidence: Evidence[], offset: number): { evidence: Evidence[]; map: Map<string, string> } {
  const map = new Map<string, string>();
  const out = evidence.map((e, i) => {
    const id = `E${offset + i + 1}`;
    map.set(e.id, id);
    return { ...e, id };
  });
  return { evidence: out, map };
}

function remapFinding(f: Finding, map: Map<string, string>): Finding {
  const ids = (xs: string[]) => xs.map((x) => map.get(x)).filter((x): x is string => x !== undefined);
  return { ...f, evidenceFor: ids(f.evidenceFor), evidenceAgainst: ids(f.evidenceAgainst) };
}

/**
 * Merges the parent's rule outcome with those of the linked runs. The culprit is wherever the fix belongs:
 * when a launched run failed with a confirmed cause of its own, that cause leads and the parent's
 * confirmed findings (the step that errored) become inconclusive context.
 */
export function mergeLinked(
  parent: Collection,
  outcome: RuleOutcome,
  children: Array<{ run: LinkedRun; outcome: RuleOutcome }>,
): { collection: Collection; outcome: RuleOutcome } {
  let evidence = [...parent.evidence];
  const findings: Finding[] = [];
  const notes = [...outcome.notes];
  let childLeads = false;
  for (const { run, outcome: child } of children) {
    const { evidence: ev, map } = renumber(run.collection.evidence, evidence.length);
    evidence = [...evidence, ...ev];
    const confirmed = child.failed && child.findings.some((f) => f.status === 'confirmed');
    childLeads ||= confirmed;
    findings.push(...child.findings.map((f) => remapFinding(f, map)));
    notes.push(
      `Followed ${describeTarget(run.link.target)} (${run.link.reason}): ${child.failed ? 'it failed' : 'it succeeded'}.`,
      ...child.notes,
    );
  }
  const own = outcome.findings.map((f) =>
    childLeads && f.status === 'confirmed'
      ? {
          ...f,
          status: 'inconclusive' as const,
          likelihood: Math.min(f.likelihood, 50),
          reasoning: `${f.reasoning} The run this step launched failed with a cause of its own, which is where the fix belongs.`,
        }
      : f,
  );
  return {
    collection: {
      ...parent,
      evidence,
      gaps: [...parent.gaps, ...children.flatMap((c) => c.run.collection.gaps)],
    },
    outcome: {
      failed: outcome.failed || children.some((c) => c.outcome.failed),
      findings: [...own, ...findings],
      notes,
    },
  };
}
