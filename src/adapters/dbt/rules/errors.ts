import type { Category } from '../../../core/taxonomy.ts';
import type { Finding } from '../../types.ts';
import type { NodeRun, ScopedNode } from '../schema.ts';
import { type Classified, classifyMessage } from './classify.ts';
import { finish, kindOf, nodeKeys, type RuleCtx, short } from './facts.ts';

const CATEGORY: Record<Exclude<Classified['kind'], 'other' | 'relation_missing'>, Category> = {
  compilation: 'dbt.compilation_error',
  missing_column: 'dbt.missing_column',
  type_mismatch: 'dbt.type_mismatch',
  permission: 'dbt.permission_denied',
};

/** Node results that errored (models, snapshots, seeds, tests whose query itself failed). */
export function erroredResults(ctx: RuleCtx): NodeRun[] {
  return ctx.s.results.filter((r) => /^(?:error|runtime error)$/i.test(r.status));
}

const inputsOf = (ctx: RuleCtx, n?: ScopedNode) =>
  (n?.dependsOn ?? []).map((d) => ctx.s.nodes[d]).filter((x): x is ScopedNode => x !== undefined);

const mentions = (sql: string | undefined, col: string) =>
  sql ? new RegExp(`\\b${col.replace(/[^\w$]/g, '')}\\b`, 'i').test(sql) : false;

/**
 * Where a missing column's fix goes: an input whose contract (documented columns) still promises the
 * column while its built relation or its SQL no longer has it changed under the model; otherwise the
 * model selecting a column its inputs never had is the change.
 */
export function traceMissingColumn(
  ctx: RuleCtx,
  n: ScopedNode | undefined,
  subject: string,
): { upstream?: ScopedNode; why: string; keys: string[] } {
  const col = subject.split('.').pop() ?? subject;
  const inputs = inputsOf(ctx, n);
  const keys = inputs.flatMap((i) => [`node:${i.uniqueId}`, `wh:${i.uniqueId}`]);
  for (const i of inputs) {
    const promised = i.columns.some((c) => c.name.toLowerCase() === col.toLowerCase());
    if (!promised) continue;
    const built = ctx.s.warehouse.find((p) => p.nodeId === i.uniqueId)?.columns;
    const lacksInWarehouse = built ? !built.some((c) => c.name.toLowerCase() === col.toLowerCase()) : false;
    const lacksInSql =
      i.resourceType !== 'source' && i.compiledSql !== undefined && !mentions(i.compiledSql, col);
    if (lacksInWarehouse || lacksInSql)
      return {
        upstream: i,
        why: `${short(i.uniqueId)} documents column ${col} but its ${lacksInWarehouse ? 'built relation' : 'SQL'} no longer has it: the upstream contract changed.`,
        keys: [`node:${i.uniqueId}`, `sql:${i.uniqueId}`, `wh:${i.uniqueId}`],
      };
  }
  const documented = inputs.filter((i) => i.columns.length);
  const why = documented.length
    ? `None of its inputs (${documented.map((i) => short(i.uniqueId)).join(', ')}) documents a column ${col}: the model selects a column that does not exist upstream, so the fix goes in the model.`
    : `Its inputs document no columns, so the column ${col} cannot be traced upstream; the fix starts in the model.`;
  return { why, keys };
}

function errorFinding(ctx: RuleCtx, r: NodeRun): Finding {
  const n = ctx.s.nodes[r.uniqueId];
  const c = classifyMessage(r.message);
  const base = { for: [...nodeKeys(r.uniqueId), 'log'], against: [] as string[], deterministic: true };
  const culprit = { kind: kindOf(r.uniqueId, n), id: r.uniqueId };
  if (c.kind === 'other' || c.kind === 'relation_missing')
    return finish(ctx, {
      ...base,
      category: 'unknown',
      title: `${short(r.uniqueId)} failed with an unclassified error`,
      likelihood: 35,
      status: 'inconclusive',
      reasoning: `The error (${c.signature}) does not match a known dbt failure signature${c.kind === 'relation_missing' ? ': a relation it reads does not exist (a missing source table or an upstream built elsewhere)' : ''}.`,
      culprit,
      decisive: false,
      summary: `${short(r.uniqueId)} failed: ${c.signature}`,
    });
  const category = CATEGORY[c.kind];
  let reasoning = `${short(r.uniqueId)} ${r.status}: "${c.signature}".`;
  let finalCulprit = culprit;
  const keys = [...base.for];
  if (c.kind === 'missing_column' && c.subject) {
    const t = traceMissingColumn(ctx, n, c.subject);
    reasoning += ` ${t.why}`;
    keys.push(...t.keys);
    if (t.upstream) finalCulprit = { kind: kindOf(t.upstream.uniqueId, t.upstream), id: t.upstream.uniqueId };
  }
  if (c.kind === 'compilation' && c.subject && ctx.s.macros.length && /is undefined/.test(c.signature)) {
    const near = ctx.s.macros.filter((m) => m.includes(c.subject ?? '') || (c.subject ?? '').includes(m));
    reasoning += ` The project defines ${near.length ? `similar macro(s): ${near.join(', ')}` : `no macro ${c.subject}`}.`;
    keys.push('macros');
  }
  return finish(ctx, {
    ...base,
    for: keys,
    category,
    title: `${short(r.uniqueId)}: ${c.signature.slice(0, 120)}`,
    likelihood: 92,
    status: 'confirmed',
    reasoning,
    culprit: finalCulprit,
    decisive: true,
    summary: `${short(r.uniqueId)} failed with "${c.signature.slice(0, 200)}"${finalCulprit.id !== r.uniqueId ? `; the fix goes in ${short(finalCulprit.id)}` : ''}.`,
  });
}

/** One finding per errored node, classified by its own message. */
export function errorFindings(ctx: RuleCtx): Finding[] {
  return erroredResults(ctx)
    .slice(0, 10)
    .map((r) => errorFinding(ctx, r));
}

/** Skipped nodes traced to the failed node they depend on: hypothesis only, never the root cause. */
export function upstreamFindings(ctx: RuleCtx): Finding[] {
  const failed = new Set(erroredResults(ctx).map((r) => r.uniqueId));
  const skipped = ctx.s.results.filter((r) => r.status === 'skipped');
  if (!skipped.length) return [];
  const traced = skipped
    .map((r) => ({ r, up: (ctx.s.nodes[r.uniqueId]?.dependsOn ?? []).find((d) => failed.has(d)) }))
    .filter((x) => x.up);
  const first = traced[0];
  const cause = first?.up ?? [...failed][0];
  return [
    finish(ctx, {
      category: 'dbt.upstream_failure',
      title: `${skipped.length} node(s) skipped because an upstream node failed`,
      likelihood: 30,
      status: 'inconclusive',
      for: ['skipped', ...(cause ? [`result:${cause}`] : [])],
      against: [],
      reasoning: `${skipped.length} node(s) were skipped${
        cause
          ? `; ${traced
              .map((x) => short(x.r.uniqueId))
              .slice(0, 6)
              .join(', ')} depend on ${short(cause)}, which failed`
          : ''
      }. A skip is a consequence: the upstream failure is the cause.`,
      ...(cause ? { culprit: { kind: kindOf(cause), id: cause } } : {}),
      decisive: false,
      summary: 'Nodes were skipped because an upstream node failed.',
    }),
  ];
}
