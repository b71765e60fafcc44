import type { Collection, Finding, PinResult, RuleOutcome } from '../types.ts';
import { silentFindings, sourceFindings, staleSources, testFindings, testResults } from './rules/data.ts';
import { erroredResults, errorFindings, upstreamFindings } from './rules/errors.ts';
import { makeCtx, type RuleCtx, short, volumeFacts } from './rules/facts.ts';
import type { DbtSnapshot } from './schema.ts';

/** Why the invocation counts as an incident, or undefined for a healthy run. */
function failureReasons(ctx: RuleCtx, silent: number): string[] {
  const errors = erroredResults(ctx);
  const { failed } = testResults(ctx);
  const stale = staleSources(ctx.s).errors;
  return [
    ...(errors.length
      ? [
          `${errors.length} node(s) errored (${errors
            .slice(0, 3)
            .map((r) => short(r.uniqueId))
            .join(', ')})`,
        ]
      : []),
    ...(failed.length ? [`${failed.length} data test(s) failed`] : []),
    ...(stale.length ? [`${stale.length} source(s) are past their freshness error threshold`] : []),
    ...(silent ? [`${silent} model(s) succeeded with empty or collapsed output`] : []),
    ...(ctx.s.cloud?.status && /error|cancel/i.test(ctx.s.cloud.status) && !errors.length
      ? [`the dbt Cloud run is ${ctx.s.cloud.status}`]
      : []),
  ];
}

function healthyNotes(ctx: RuleCtx): string[] {
  const notes = [
    'Every node succeeded, tests passed, sources are fresh and volumes are in line with history: nothing to diagnose.',
  ];
  const { warned } = testResults(ctx);
  if (warned.length) notes.push(`${warned.length} warn-severity test(s) warned; they do not fail the run.`);
  const warns = staleSources(ctx.s).warns;
  if (warns.length) notes.push(`${warns.length} source(s) passed their freshness warn threshold only.`);
  if (!ctx.s.results.length)
    notes.push('No node results were available (run_results.json missing or empty).');
  return notes;
}

/** Keeps one confirmed finding (the likeliest); demotes other confirmed ones 20 points below it. */
function arbitrate(findings: Finding[]): Finding[] {
  const ranked = [...findings].sort(
    (a, b) =>
      Number(b.status === 'confirmed') - Number(a.status === 'confirmed') || b.likelihood - a.likelihood,
  );
  const top = ranked[0];
  return ranked.map((x, i) => {
    if (i === 0 || x.status !== 'confirmed' || !top) return x;
    if (x.category !== top.category && top.likelihood - x.likelihood < 5) return x;
    return {
      ...x,
      status: 'inconclusive' as const,
      likelihood: Math.min(x.likelihood, top.likelihood - 20),
      reasoning: `${x.reasoning} Ranked below ${top.category} on ${top.culprit?.id ?? '?'}, which explains the failure better.`,
    };
  });
}

/**
 * The offline dbt rules: errors classified from each node's own message (compilation, missing
 * column traced upstream, type, permission), failing tests, stale sources, empty or collapsed outputs
 * against history, skipped nodes as hypotheses only. A healthy run abstains (`failed: false`).
 */
export function dbtRules(collection: Collection<DbtSnapshot>, _pin: PinResult): RuleOutcome {
  const ctx = makeCtx(collection.facts, collection.evidenceIndex);
  const volumes = volumeFacts(ctx.s);
  const reasons = failureReasons(ctx, volumes.length);
  if (!reasons.length) return { failed: false, findings: [], notes: healthyNotes(ctx) };
  const errors = errorFindings(ctx);
  const tests = testFindings(ctx);
  const other = errors.length > 0 || tests.some((t) => t.status === 'confirmed');
  const raw = [
    ...errors,
    ...tests,
    ...sourceFindings(ctx, other, volumes),
    ...silentFindings(ctx, volumes),
    ...upstreamFindings(ctx),
  ];
  const findings = arbitrate(raw);
  const notes = [`The run is an incident: ${reasons.join('; ')}.`];
  if (collection.gaps.length) notes.push(`Evidence gaps: ${collection.gaps.join('; ')}`);
  if (!findings.some((f) => f.status === 'confirmed'))
    notes.push(
      'No failure signature decides: the full dbt.log, the compiled SQL of the failing node and a warehouse profile of its inputs would.',
    );
  return { failed: true, findings, notes };
}
