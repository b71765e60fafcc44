import type { Finding } from '../../types.ts';
import type { DbtSnapshot, FreshnessResult } from '../schema.ts';
import { finish, kindOf, nodeKeys, type RuleCtx, short, type VolumeFact, volumeFacts } from './facts.ts';

/** Failed (error severity) and warned data tests. */
export function testResults(ctx: RuleCtx) {
  const tests = ctx.s.results.filter(
    (r) => r.uniqueId.startsWith('test.') || ctx.s.nodes[r.uniqueId]?.resourceType === 'test',
  );
  return {
    failed: tests.filter((r) => r.status === 'fail'),
    warned: tests.filter((r) => r.status === 'warn'),
  };
}

function testedNode(ctx: RuleCtx, testId: string): string | undefined {
  const n = ctx.s.nodes[testId];
  return n?.attachedNode ?? n?.dependsOn.find((d) => !d.startsWith('test.')) ?? undefined;
}

/** A failing data test: the tested model is the culprit (the test id is an alias). Warn severity is not the failure. */
export function testFindings(ctx: RuleCtx): Finding[] {
  const { failed, warned } = testResults(ctx);
  const out: Finding[] = [];
  const ranked = [...failed].sort((a, b) => (b.failures ?? 0) - (a.failures ?? 0));
  ranked.slice(0, 3).forEach((r, i) => {
    const n = ctx.s.nodes[r.uniqueId];
    const model = testedNode(ctx, r.uniqueId);
    const what = `${n?.test?.name ?? 'singular'} test${n?.test?.column ? ` on column ${n.test.column}` : ''}${model ? ` of ${short(model)}` : ''}`;
    const rows = ctx.s.warehouse.find((p) => p.nodeId === model)?.failingRows;
    out.push(
      finish(ctx, {
        category: 'dbt.test_failure',
        title: `${what} failed with ${r.failures ?? '?'} failing row(s)`,
        likelihood: 84 - i * 2,
        status: i === 0 ? 'confirmed' : 'inconclusive',
        for: [...nodeKeys(r.uniqueId), ...(model ? [`node:${model}`, `wh:${model}`, `result:${model}`] : [])],
        against: [],
        reasoning: `${short(r.uniqueId)} (${n?.severity ?? 'error'} severity) returned ${r.failures ?? 'some'} failing row(s): ${r.message ?? ''}.${rows?.length ? ` The warehouse shows ${rows.length} of the failing rows.` : ''}${failed.length > 1 ? ` ${failed.length} tests failed in all.` : ''}`,
        culprit: model
          ? { kind: kindOf(model, ctx.s.nodes[model]), id: model }
          : { kind: 'test', id: r.uniqueId },
        decisive: true,
        deterministic: true,
        summary: `The ${what} failed: ${r.failures ?? 'some'} row(s) violate it (${short(r.uniqueId)}).`,
      }),
    );
  });
  for (const r of warned.slice(0, 2))
    out.push(
      finish(ctx, {
        category: 'dbt.test_failure',
        title: `${short(r.uniqueId)} warned (${r.failures ?? '?'} row(s)) — warn severity does not fail the run`,
        likelihood: 20,
        status: 'dismissed',
        for: nodeKeys(r.uniqueId),
        against: [],
        reasoning:
          'A warn-severity test reports a data issue without failing the run; it is not the failure.',
        decisive: false,
        summary: `${short(r.uniqueId)} warned.`,
      }),
    );
  return out;
}

const isStale = (f: FreshnessResult) => /error/i.test(f.status);

/** Sources whose freshness is past the error (or warn) threshold. */
export function staleSources(s: DbtSnapshot): { errors: FreshnessResult[]; warns: FreshnessResult[] } {
  return { errors: s.freshness.filter(isStale), warns: s.freshness.filter((f) => f.status === 'warn') };
}

/** Does `id` read from source `src` directly or through one intermediate node in scope? */
export function readsFrom(s: DbtSnapshot, id: string, src: string): boolean {
  const deps = s.nodes[id]?.dependsOn ?? [];
  return deps.includes(src) || deps.some((d) => (s.nodes[d]?.dependsOn ?? []).includes(src));
}

export function sourceFindings(ctx: RuleCtx, otherFailures: boolean, silent: VolumeFact[]): Finding[] {
  const { errors, warns } = staleSources(ctx.s);
  return [...errors, ...warns].slice(0, 4).map((f, i) => {
    const err = isStale(f);
    const caused = silent.filter((v) => readsFrom(ctx.s, v.id, f.uniqueId));
    const likelihood = !err ? 40 : caused.length ? 90 : otherFailures ? 55 : 82 - i * 2;
    const n = ctx.s.nodes[f.uniqueId];
    return finish(ctx, {
      category: 'dbt.source_stale',
      title: `Source ${short(f.uniqueId)} is stale (${f.status})`,
      likelihood,
      status: err && (!otherFailures || caused.length) && i === 0 ? 'confirmed' : 'inconclusive',
      for: [
        `fresh:${f.uniqueId}`,
        `node:${f.uniqueId}`,
        `wh:${f.uniqueId}`,
        ...caused.map((v) => `volume:${v.id}`),
      ],
      against: ['fresh:pass'],
      reasoning: `sources.json: ${short(f.uniqueId)} ${f.status}, newest row ${f.maxLoadedAt ?? '?'}${f.ageSeconds !== undefined ? ` (${(f.ageSeconds / 3600).toFixed(1)} h before the check)` : ''}, error after ${f.errorAfter ?? '?'}${n?.loader ? `; loaded by ${n.loader}` : ''}.${caused.length ? ` ${caused.map((v) => short(v.id)).join(', ')} read from it and wrote too little.` : ''}${err ? '' : ' A warning alone does not fail the run.'}`,
      culprit: { kind: 'source', id: f.uniqueId },
      decisive: err,
      deterministic: true,
      summary: `Source ${short(f.uniqueId)} is past its freshness ${err ? 'error' : 'warn'} threshold (newest row ${f.maxLoadedAt ?? '?'}): the loader stopped delivering${n?.loader ? ` (${n.loader})` : ''}.`,
    });
  });
}

/** Silent facts whose inputs were not themselves empty: where the emptiness starts. */
export function rootSilent(facts: VolumeFact[]): VolumeFact[] {
  const bad = new Set(facts.map((f) => f.id));
  return facts.filter((f) => !f.inputs.some((i) => bad.has(i.id)));
}

/** Why a model wrote nothing: vars in the invocation, filters in its SQL, empty inputs. */
function reasonsFor(ctx: RuleCtx, v: VolumeFact): { text: string[]; keys: string[] } {
  const text: string[] = [];
  const keys: string[] = [];
  const sql = ctx.s.nodes[v.id]?.compiledSql ?? '';
  const day = (ctx.s.startedAt ?? ctx.s.generatedAt ?? '').slice(0, 10);
  for (const [k, val] of Object.entries(ctx.s.vars)) {
    const inSql = val.length > 2 && sql.includes(val);
    const future = /^\d{4}-\d{2}-\d{2}/.test(val) && day && val.slice(0, 10) >= day;
    if (inSql || future) {
      text.push(
        `--vars ${k}=${val}${inSql ? ' is used in its compiled SQL' : ''}${future ? ` (not before the run date ${day}: no data can exist for it yet)` : ''}`,
      );
      keys.push('run', `sql:${v.id}`);
    }
  }
  const filter = sql.split('\n').find((l) => /\bwhere\b/i.test(l) && /'[^']+'|\d{4}-\d{2}-\d{2}/.test(l));
  if (filter) {
    text.push(`its SQL filters on a literal: ${filter.trim().slice(0, 160)}`);
    keys.push(`sql:${v.id}`);
  }
  const emptyIn = v.inputs.filter((i) => i.rows === 0);
  if (emptyIn.length) text.push(`its input(s) ${emptyIn.map((i) => short(i.id)).join(', ')} were empty too`);
  const fullIn = v.inputs.filter((i) => (i.rows ?? 0) > 0);
  if (fullIn.length)
    text.push(
      `its input(s) ${fullIn.map((i) => `${short(i.id)} (${i.rows} rows)`).join(', ')} were not empty`,
    );
  return { text, keys: [...keys, ...v.inputs.map((i) => `volume:${i.id}`)] };
}

/** Runs that "succeeded" but wrote nothing or far less than history; the model where it starts is the culprit. */
export function silentFindings(ctx: RuleCtx, facts: VolumeFact[] = volumeFacts(ctx.s)): Finding[] {
  const roots = rootSilent(facts).sort((a, b) => (b.median ?? 0) - (a.median ?? 0));
  return roots.slice(0, 3).map((v, i) => {
    const empty = v.kind === 'empty';
    const r = reasonsFor(ctx, v);
    const hasHistory = v.median !== undefined;
    const downstream = facts.filter((f) => f.id !== v.id && f.inputs.some((x) => x.id === v.id));
    return finish(ctx, {
      category: empty ? 'silent.empty_output' : 'silent.volume_drop',
      title: `${short(v.id)} succeeded but wrote ${v.rows} row(s)${hasHistory ? ` (median ${Math.round(v.median ?? 0)})` : ''}`,
      likelihood: (hasHistory ? 86 : 66) - i * 3,
      status: i === 0 ? 'confirmed' : 'inconclusive',
      for: [
        `volume:${v.id}`,
        `result:${v.id}`,
        `node:${v.id}`,
        `wh:${v.id}`,
        ...r.keys,
        ...downstream.map((d) => `volume:${d.id}`),
      ],
      against: [],
      reasoning: `${short(v.id)} reported success with ${v.rows} row(s)${hasHistory ? ` against a median of ${Math.round(v.median ?? 0)} over ${v.history.length} previous run(s)` : ' and no history to compare with'}.${r.text.length ? ` ${r.text.join('; ')}.` : ''}${downstream.length ? ` Downstream ${downstream.map((d) => short(d.id)).join(', ')} inherited it.` : ''}`,
      culprit: { kind: kindOf(v.id, ctx.s.nodes[v.id]), id: v.id },
      decisive: hasHistory,
      deterministic: true,
      summary: `${short(v.id)} "succeeded" but wrote ${v.rows} row(s)${hasHistory ? `, against a usual ${Math.round(v.median ?? 0)}` : ''}${r.text[0] ? `: ${r.text[0]}` : ''}.`,
    });
  });
}
