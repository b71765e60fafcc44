import type { Culprit } from '../../../core/report.ts';
import type { Finding } from '../../types.ts';
import type { SparkFacts } from './facts.ts';
import type { SizeFacts } from './sizes.ts';

/** What every Spark rule reads: the facts, the size comparison, and evidence-key lookup. */
export interface RuleCtx {
  f: SparkFacts;
  sz?: SizeFacts;
  appId: string;
  /** Evidence keys → ids, skipping keys without evidence, deduplicated, in order. */
  ids: (keys: Array<string | undefined>) => string[];
}

export function makeIds(index: Record<string, string>): RuleCtx['ids'] {
  return (keys) => [...new Set(keys.flatMap((k) => (k && index[k] ? [index[k]] : [])))];
}

/** Culprit of stage-level failures: the stage whose failure failed the job. */
export function focusStage(ctx: RuleCtx): Culprit | undefined {
  return ctx.f.focus ? { kind: 'stage', id: String(ctx.f.focus.stageId) } : undefined;
}

/** Evidence keys describing the focus stage. */
export function focusKeys(ctx: RuleCtx): string[] {
  const k = ctx.f.focusKey;
  return k ? [`stage:${k}`, `summary:${k}`, `failedTasks:${k}`, `topTasks:${k}`] : [];
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
