import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { Culprit, Evidence, Pinned } from '../core/report.ts';
import type { Platform, Target } from '../core/target.ts';
import type { Category } from '../core/taxonomy.ts';
import type { Upstream } from '../core/upstream.ts';

/** What every adapter call gets: config, a logger, and an optional abort signal. */
export interface AdapterContext {
  config: Config;
  log: Logger;
  signal?: AbortSignal;
  /**
   * Where local dbt artifacts may be read: `'any'` when a human typed the path (the `heal investigate` CLI),
   * else only under these directories. Absent: HEAL_DBT_ROOTS (paths from Slack, alerts, webhooks, logs).
   */
  localRoots?: readonly string[] | 'any';
}

/** The failing state, resolved to immutable ids before anything is collected. */
export interface PinResult {
  pinned: Pinned;
  /** The target with resolved ids filled in (e.g. the Spark attempt). */
  target: Target;
}

/**
 * Everything collected for one pinned run. JSON-serialisable: it is checkpointed in Redis so a
 * restarted job never re-collects.
 */
export interface Collection<F = unknown> {
  evidence: Evidence[];
  /** Evidence keys (adapter-defined, e.g. `stage:3.0`) to evidence ids (`E4`), for the rules. */
  evidenceIndex: Record<string, string>;
  /** What could not be collected, in plain words ("Spark History Server unreachable: …"). */
  gaps: string[];
  /** The platform's own facts (e.g. a Spark snapshot) the rules read. */
  facts: F;
  /**
   * Runs on another platform this one launched (a Spark app id or dbt target in an Airflow task log). The
   * diagnosis layer follows them when that platform is configured and merges their evidence.
   */
  links?: Link[];
}

/** A run on another platform that the failing step launched, with the evidence that names it. */
export interface Link {
  target: Target;
  /** Why we think this run is the one, e.g. "application id in the log of task load_orders, try 2". */
  reason: string;
  /** evidenceIndex key of the evidence that names the run. */
  evidenceKey?: string;
  /** The culprit on this platform (e.g. the Airflow task) the linked run belongs to. */
  from?: Culprit;
}

/** One hypothesis as a platform's rules see it, before the engine ranks and disciplines it. */
export interface Finding {
  category: Category;
  title: string;
  /** Raw score 0-100 from the rules: how well the evidence fits. */
  likelihood: number;
  status: 'confirmed' | 'dismissed' | 'inconclusive';
  evidenceFor: string[];
  evidenceAgainst: string[];
  reasoning: string;
  culprit?: Culprit;
  /** True when at least one piece of evidence for it is decisive (an explicit signature, not a hint). */
  decisive: boolean;
  /** One or two sentences for the root-cause message. */
  summary: string;
  /** Does a rerun with the same inputs fail the same way? */
  deterministic?: boolean;
}

export interface RuleOutcome {
  /** Did the run fail (or "succeed" wrongly)? A healthy run means abstain. */
  failed: boolean;
  findings: Finding[];
  /** Why the rules abstain or what evidence would decide, when nothing is confirmed. */
  notes: string[];
}

/** A pipeline platform: pins the failing state, collects evidence, knows its failure rules. */
export interface PipelineAdapter<F = unknown> {
  readonly platform: Platform;
  pin(target: Target, ctx: AdapterContext): Promise<Upstream<PinResult>>;
  collect(pin: PinResult, ctx: AdapterContext): Promise<Collection<F>>;
  rules(collection: Collection<F>, pin: PinResult): RuleOutcome;
  /** Rerunning the pinned run on the platform, when the platform has a way to (DESIGN.md §5, §6). */
  rerun?: RerunCapability;
}

/** What a dry run says a rerun would do: nothing has changed yet. */
export interface RerunPlan {
  /** What would be rerun, one item each (task instances, a job run). */
  items: string[];
  summary: string;
}

/** A rerun the platform accepted; `handle` is what {@link RerunCapability.follow} needs (JSON-serialisable). */
export interface RerunStarted {
  items: string[];
  summary: string;
  handle: Record<string, unknown>;
}

/** Where the new try stands. */
export interface RerunProgress {
  state: 'running' | 'succeeded' | 'failed';
  summary: string;
}

/**
 * Rerunning a pinned failing run. Every method is a platform call behind an authorised human click; upstream
 * problems resolve as `Upstream` results. `preview` must not change anything; `execute` is the one write.
 */
export interface RerunCapability {
  /** Pure: whether this target has a rerun path, what it would do, or why not. */
  supports(target: Target): { ok: true; what: string } | { ok: false; why: string };
  preview(pin: PinResult, ctx: AdapterContext): Promise<Upstream<RerunPlan>>;
  execute(pin: PinResult, ctx: AdapterContext): Promise<Upstream<RerunStarted>>;
  follow(pin: PinResult, started: RerunStarted, ctx: AdapterContext): Promise<Upstream<RerunProgress>>;
}
