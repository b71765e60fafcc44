import type { Finding } from '../../types.ts';
import { finish, focusKeys, focusStage, type RuleCtx } from './context.ts';
import { keysOf, sigs } from './facts.ts';
import { HEAP_SIGS, KILL_SIGS, lineWith, MEMORY_SIGS } from './signatures.ts';
import { fmtBytes, parseMemory } from './util.ts';

/** driver_oom: maxResultSize exceeded, a broadcast too big for the driver, or an OOM in the driver. */
export function driverFinding(ctx: RuleCtx): Finding | undefined {
  const { f } = ctx;
  const result = sigs(f, ['max_result_size', 'driver_broadcast']);
  const heap = sigs(f, HEAP_SIGS, (s) => s.driver);
  if (!result.length && !heap.length) return undefined;
  const execHeap = sigs(f, HEAP_SIGS, (s) => !s.driver);
  const driver = f.snap.executors.find((e) => e.id === 'driver');
  const size = parseMemory(f.props['spark.driver.memory']);
  const peak = driver?.peakMemoryMetrics?.JVMHeapMemory;
  const fill = size && peak ? peak / size : undefined;
  const fillText = fill !== undefined ? `driver heap peaked at ${fmtBytes(peak)} of ${fmtBytes(size)}` : '';
  const decisive = result.length > 0 || heap.length > 0;
  const wins = result.length > 0 || execHeap.length === 0;
  const quote = result[0] ? lineWith(result[0].text, result[0].sig) : heap[0]?.text.split('\n')[0];
  return finish(ctx, {
    category: 'spark.driver_oom',
    title: 'The driver ran out of memory',
    likelihood: wins ? 85 + (fill !== undefined && fill >= 0.8 ? 7 : 0) : 40,
    status: wins ? 'confirmed' : 'inconclusive',
    for: [...keysOf(result), ...keysOf(heap), 'executor:driver', 'env:props'],
    against: keysOf(execHeap),
    reasoning: [
      quote ? `Driver-side signature: "${quote.trim().slice(0, 240)}"` : '',
      fillText,
      execHeap.length ? 'executors also report heap OOM' : 'executors are not failing for memory',
    ]
      .filter(Boolean)
      .join('; '),
    culprit: { kind: 'driver', id: 'driver' },
    decisive,
    summary: `The driver could not hold what the job sent it${result.length ? ' (task results exceeded spark.driver.maxResultSize)' : ''}${fillText ? `; ${fillText}` : ''}. Do not collect large results to the driver.`,
    deterministic: true,
  });
}

function retried(ctx: RuleCtx): boolean {
  const focus = ctx.f.focus;
  if (!focus) return false;
  const all = [...ctx.f.snap.stages, ...Object.values(ctx.f.snap.stageDetails)];
  return focus.attemptId > 0 || all.some((s) => s.stageId !== focus.stageId && s.attemptId > 0);
}

/** shuffle_fetch_failure: shuffle output lost with executors/nodes, not because tasks ran out of memory. */
export function shuffleFinding(ctx: RuleCtx): Finding | undefined {
  const { f } = ctx;
  const fetch = sigs(f, ['fetch_failed']);
  const infra = sigs(f, ['node_lost', 'unrelated_exit'], (s) => !s.driver);
  if (!fetch.length && !infra.length) return undefined;
  const memory = sigs(f, [...MEMORY_SIGS], (s) => !s.driver);
  const explicitMem = memory.filter((s) => HEAP_SIGS.has(s.sig) || KILL_SIGS.has(s.sig));
  const isRetried = retried(ctx);
  const lostExecs = new Set(infra.map((s) => s.executorId ?? s.key)).size;
  const wins = explicitMem.length === 0 && (fetch.length > 0 || infra.some((s) => s.fatal));
  const likelihood = wins ? 75 + (lostExecs ? 8 : 0) + (isRetried ? 5 : 0) : explicitMem.length ? 15 : 45;
  return finish(ctx, {
    category: 'spark.shuffle_fetch_failure',
    title: 'Shuffle blocks lost with executors/nodes',
    likelihood,
    status: wins ? 'confirmed' : explicitMem.length ? 'dismissed' : 'inconclusive',
    for: [...keysOf(fetch), ...keysOf(infra), ...focusKeys(ctx).slice(0, 1)],
    against: keysOf(explicitMem),
    reasoning: [
      `${fetch.length} fetch-failure signature(s)`,
      lostExecs
        ? `${lostExecs} executor(s) lost for reasons unrelated to their tasks (node loss / preemption)`
        : '',
      isRetried ? 'stages were retried / map outputs recomputed' : '',
      explicitMem.length
        ? 'but executors died of memory: the fetch failures follow from that'
        : 'no task ran out of memory',
    ]
      .filter(Boolean)
      .join('; '),
    culprit: focusStage(ctx),
    decisive: wins && fetch.length > 0,
    summary: `Stage ${f.focus?.stageId ?? '?'} could not fetch shuffle blocks whose executors/nodes were lost${isRetried ? '; retries did not recover' : ''}. Transient infrastructure: rerun; use decommissioning or a remote shuffle service on preemptible nodes.`,
    deterministic: false,
  });
}
