import type { CulpritKind } from '../../../core/taxonomy.ts';
import type { Finding } from '../../types.ts';
import type { DbtSnapshot, NodeRun, ScopedNode } from '../schema.ts';
import { judgeVolume } from '../volume.ts';

/** What every dbt rule reads: the snapshot, results by id, and evidence-key lookup. */
export interface RuleCtx {
  s: DbtSnapshot;
  byId: Map<string, NodeRun>;
  /** Evidence keys → ids, skipping keys without evidence, deduplicated, in order. */
  ids: (keys: Array<string | undefined>) => string[];
}

export function makeCtx(s: DbtSnapshot, index: Record<string, string>): RuleCtx {
  return {
    s,
    byId: new Map(s.results.map((r) => [r.uniqueId, r])),
    ids: (keys) => [...new Set(keys.flatMap((k) => (k && index[k] ? [index[k]] : [])))],
  };
}

export type Draft = Omit<Finding, 'evidenceFor' | 'evidenceAgainst'> & { for: string[]; against: string[] };

/** Turns a draft with evidence keys into a Finding with evidence ids; likelihood clamped to 0-100. */
export function finish(ctx: RuleCtx, d: Draft): Finding {
  const { for: forKeys, against, ...rest } = d;
  const evidenceFor = ctx.ids(forKeys);
  return {
    ...rest,
    likelihood: Math.max(0, Math.min(100, Math.round(d.likelihood))),
    evidenceFor,
    evidenceAgainst: ctx.ids(against).filter((id) => !evidenceFor.includes(id)),
  };
}

/** The culprit kind of a node from its unique id / resource type. */
export function kindOf(id: string, n?: ScopedNode): CulpritKind {
  const t = n?.resourceType ?? id.split('.')[0] ?? 'model';
  return (['model', 'test', 'source', 'seed', 'snapshot'] as const).find((k) => k === t) ?? 'model';
}

export const short = (id: string) => id.split('.').slice(2).join('.') || id;

/** Keys of evidence describing one node. */
export function nodeKeys(id: string): string[] {
  return [`result:${id}`, `node:${id}`, `sql:${id}`, `wh:${id}`, `fresh:${id}`, `volume:${id}`];
}

export interface VolumeFact {
  id: string;
  kind: 'empty' | 'drop';
  rows: number;
  median?: number;
  history: number[];
  inputs: Array<{ id: string; rows?: number; status?: string }>;
  materialized?: string;
}

/**
 * Models that succeeded but wrote nothing or far less than their history. Without history only
 * full rebuilds (tables) count as empty: an incremental model inserting 0 new rows may be normal.
 */
export function volumeFacts(s: DbtSnapshot): VolumeFact[] {
  const byId = new Map(s.results.map((r) => [r.uniqueId, r]));
  const out: VolumeFact[] = [];
  for (const r of s.results) {
    if (r.status !== 'success' || r.rows === undefined) continue;
    const past = s.history.flatMap((h) =>
      h.rows[r.uniqueId] === undefined ? [] : [h.rows[r.uniqueId] as number],
    );
    const v = judgeVolume(r.rows, past);
    const n = s.nodes[r.uniqueId];
    if (!v) continue;
    if (!past.length && n?.materialized && n.materialized !== 'table') continue;
    out.push({
      id: r.uniqueId,
      kind: v.kind,
      rows: v.rows,
      ...(v.median !== undefined ? { median: v.median } : {}),
      history: past,
      inputs: (n?.dependsOn ?? []).map((d) => {
        const ir = byId.get(d);
        return {
          id: d,
          ...(ir?.rows !== undefined ? { rows: ir.rows } : {}),
          ...(ir ? { status: ir.status } : {}),
        };
      }),
      ...(n?.materialized ? { materialized: n.materialized } : {}),
    });
  }
  return out;
}
