import type { Collection, Finding, PinResult, RuleOutcome } from '../types.ts';
import { makeIds, type RuleCtx } from './rules/context.ts';
import { readFacts, type SparkFacts, sigs } from './rules/facts.ts';
import { driverFinding, shuffleFinding } from './rules/infra.ts';
import { inputFindings } from './rules/input.ts';
import { memoryFindings } from './rules/memory.ts';
import { CLASS_SIGS, signaturesOf } from './rules/signatures.ts';
import { sizeFacts } from './rules/sizes.ts';
import type { SparkSnapshot } from './schema.ts';

/** Why the run counts as failed, or undefined for a run that succeeded. */
function failureReason(f: SparkFacts): string | undefined {
  if (f.failedJobs.length) return `${f.failedJobs.length} job(s) FAILED`;
  const exit = f.snap.attempt?.exitCode;
  if (exit !== undefined && exit !== 0) return `the application exited with code ${exit}`;
  if (sigs(f, ['app_failed'], (s) => s.driver).length) return 'the driver log reports the application failed';
  const completed = new Set(
    [...f.snap.stages, ...Object.values(f.snap.stageDetails)]
      .filter((s) => s.status === 'COMPLETE')
      .map((s) => s.stageId),
  );
  const unrecovered = f.failedStageAttempts.filter((s) => !completed.has(s.stageId));
  if (unrecovered.length && f.snap.attempt?.completed !== false)
    return `stage ${unrecovered[0]?.stageId} failed and never completed`;
  return undefined;
}

/**
 * Why a run without a failure signal still cannot be called healthy: a core endpoint that could not be read,
 * or an attempt that has not completed (still running, or the History Server is still replaying its log).
 */
function unreadReasons(f: SparkFacts): string[] {
  const unread = new Set(f.snap.unread ?? []);
  const out: string[] = [];
  if (unread.has('application'))
    out.push(
      'the application attempt could not be read, so whether it completed and its exit code are unknown',
    );
  else if (f.snap.attempt?.completed === false)
    out.push(
      'the application attempt has not completed (still running, or the History Server has not finished replaying its event log)',
    );
  const lists = (['jobs', 'stages'] as const).filter((x) => unread.has(x));
  if (lists.length)
    out.push(
      `its ${lists.map((x) => `/${x}`).join(' and ')} could not be read, so a failed job or stage would be missed`,
    );
  if (unread.has('executors') && f.snap.attempt?.exitCode === undefined)
    out.push(
      'its executors could not be read, so the driver log (where a driver-side failure shows) was not read, and the attempt reports no exit code',
    );
  return out;
}

function undecidedRun(f: SparkFacts, reasons: string[], gaps: string[]): RuleOutcome {
  const notes = [
    `Heal cannot call this run healthy: ${reasons.join('; ')}.`,
    'Investigate again once the History Server serves the whole application.',
  ];
  if (gaps.length) notes.push(`Evidence gaps: ${gaps.join('; ')}.`);
  if (f.removed.length) notes.push(`${f.removed.length} executor(s) were removed during the run.`);
  return { failed: true, findings: [], notes };
}

function healthyNotes(f: SparkFacts): string[] {
  const notes = ['Every job succeeded and no failure was reported: nothing to diagnose.'];
  if (f.removed.length)
    notes.push(
      `${f.removed.length} executor(s) were removed during the run; their tasks were retried and the jobs still succeeded.`,
    );
  const retried = f.failedStageAttempts.length;
  if (retried) notes.push(`${retried} stage attempt(s) failed and were recovered by a retry.`);
  return notes;
}

/** True when the finding's signature appears in the reason that failed the job. */
function inFatalReason(f: SparkFacts, finding: Finding): boolean {
  const reason = f.focus?.failureReason;
  if (!reason) return false;
  const s = signaturesOf(reason);
  const byCat: Record<string, string[]> = {
    'spark.executor_oom': ['heap_oom', 'jvm_oom_exit'],
    'spark.data_skew': ['heap_oom', 'jvm_oom_exit', 'container_mem_kill', 'oom_killed', 'exit_137'],
    'spark.memory_overhead_exceeded': ['container_mem_kill', 'oom_killed', 'exit_137'],
    'spark.driver_oom': ['max_result_size', 'driver_broadcast'],
    'spark.shuffle_fetch_failure': ['fetch_failed', 'node_lost', 'unrelated_exit'],
    'spark.schema_mismatch': ['unresolved_column', 'schema_incompatible'],
    'spark.missing_input': ['path_missing', 'table_missing'],
    'spark.dependency_error': ['dependency'],
  };
  return (byCat[finding.category] ?? []).some((x) => s.has(x as never));
}

/** Keeps one confirmed finding: the one the fatal error names, then the likeliest; demotes the rest. */
function arbitrate(f: SparkFacts, findings: Finding[]): Finding[] {
  const score = (x: Finding) =>
    (x.status === 'confirmed' ? 1000 : 0) + (inFatalReason(f, x) ? 100 : 0) + x.likelihood;
  const ranked = [...findings].sort((a, b) => score(b) - score(a));
  const top = ranked[0];
  return ranked.map((x, i) => {
    if (i === 0 || x.status !== 'confirmed' || !top) return x;
    return {
      ...x,
      status: 'inconclusive' as const,
      likelihood: Math.min(x.likelihood, top.likelihood - 20),
      reasoning: `${x.reasoning} Ranked below ${top.category}, which the failure itself points to.`,
    };
  });
}

function undecidedNotes(f: SparkFacts, findings: Finding[]): string[] {
  const notes = ['No hypothesis is confirmed by an explicit error signature.'];
  const seen = new Set(f.signals.filter((s) => CLASS_SIGS.has(s.sig)).map((s) => s.sig));
  if (!f.snap.logs.length)
    notes.push(
      'Executor/driver logs were not available: the exception in them would decide between hypotheses.',
    );
  if (!f.focus) notes.push('No failed stage was found: the driver log (its final exception) would decide.');
  if (sigs(f, ['rpc_disassociated', 'exit_137']).length && !seen.has('container_mem_kill'))
    notes.push(
      'Executors were lost without a stated cause: the resource manager container diagnostics (YARN NodeManager / Kubernetes pod status) would tell a memory kill from a node loss.',
    );
  if (findings.some((x) => x.category === 'spark.data_skew' && x.status === 'inconclusive'))
    notes.push(
      'The size of the failing partition is unknown: task metrics of the failed attempts or the executor log lines "Getting N (size) non-empty blocks" would decide skew vs even work.',
    );
  return notes;
}

/**
 * The offline Spark rules: every Spark taxonomy id as a hypothesis with evidence for and against,
 * weighed against each other; at most one confirmed finding. A healthy run abstains (`failed: false`); a run
 * Heal could not fully read (or that has not completed) is never called healthy: it abstains as undecided.
 */
export function sparkRules(collection: Collection<SparkSnapshot>, _pin: PinResult): RuleOutcome {
  const f = readFacts(collection.facts);
  const why = failureReason(f);
  if (!why) {
    const unread = unreadReasons(f);
    if (unread.length) return undecidedRun(f, unread, collection.gaps);
    return { failed: false, findings: [], notes: healthyNotes(f) };
  }
  const ctx: RuleCtx = { f, sz: sizeFacts(f), appId: f.snap.appId, ids: makeIds(collection.evidenceIndex) };
  const raw = [...inputFindings(ctx), driverFinding(ctx), shuffleFinding(ctx), ...memoryFindings(ctx)].filter(
    (x): x is Finding => x !== undefined,
  );
  const findings = arbitrate(f, raw);
  const confirmed = findings.some((x) => x.status === 'confirmed');
  const notes = [`The run failed: ${why}.`];
  if (collection.gaps.length) notes.push(`Evidence gaps: ${collection.gaps.join('; ')}`);
  if (!confirmed) notes.push(...undecidedNotes(f, findings));
  return { failed: true, findings, notes };
}
