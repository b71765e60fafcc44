import type { Finding } from '../../types.ts';
import { finish, focusKeys, focusStage, type RuleCtx } from './context.ts';
import { keysOf, type Signal, sigs } from './facts.ts';
import { HEAP_SIGS, KILL_SIGS } from './signatures.ts';
import { fmtBytes, parseMemory } from './util.ts';

/*
 * Skew, executor heap OOM and container (overhead) kills explain the same symptom — executors dying
 * under a stage — so they are weighed together: size of the failing tasks first, then which memory
 * limit was hit.
 */

const execsOf = (s: Signal[]) => new Set(s.map((x) => x.executorId ?? x.key));

interface Mem {
  heap: Signal[];
  kill: Signal[];
  k137: Signal[];
  heapFill?: number;
  pythonRss?: number;
}

/** Peak heap / heap size and peak Python RSS of executors that died. */
function memFacts(ctx: RuleCtx): Mem {
  const { f } = ctx;
  const heap = sigs(f, HEAP_SIGS, (s) => !s.driver);
  const kill = sigs(f, KILL_SIGS, (s) => !s.driver);
  const k137 = sigs(f, ['exit_137'], (s) => !s.driver);
  const dead = new Set([...kill, ...heap].map((s) => s.executorId).filter(Boolean));
  const execs = f.snap.executors.filter((e) => e.id !== 'driver' && (dead.has(e.id) || e.removeReason));
  const heapSize =
    parseMemory(f.props['spark.executor.memory']) ??
    (execs[0]?.maxMemory ? execs[0].maxMemory / 0.6 + 300 * 1024 ** 2 : undefined);
  const peaks = execs.map((e) => e.peakMemoryMetrics?.JVMHeapMemory ?? 0).filter((v) => v > 0);
  const rss = execs.map((e) => e.peakMemoryMetrics?.ProcessTreePythonRSSMemory ?? 0);
  return {
    heap,
    kill,
    k137,
    heapFill: heapSize && peaks.length ? Math.max(...peaks) / heapSize : undefined,
    pythonRss: rss.length ? Math.max(...rss) : undefined,
  };
}

interface Skew {
  big: boolean;
  even: boolean;
  concentrated: boolean;
  keys: string[];
  text: string;
}

function skewFacts(ctx: RuleCtx): Skew | undefined {
  const sz = ctx.sz;
  if (!sz) return undefined;
  const byMetrics = (sz.failedRatio ?? 0) >= 4;
  const byLogs = sz.fetch.bigKeys.length > 0 && (sz.fetch.ratio ?? 0) >= 4;
  const big = byMetrics || byLogs;
  const even = !big && sz.failedRatio !== undefined && sz.failedRatio <= 2;
  const limit = Math.max(2, Math.ceil(0.1 * sz.numTasks));
  const concentrated = sz.distinctFailedPartitions > 0 && sz.distinctFailedPartitions <= limit;
  const med = sz.success.median;
  const parts: string[] = [];
  if (sz.failedSizes[0] && med)
    parts.push(
      `the largest failing attempt (partition ${sz.failedSizes[0].task.index}) read ${fmtBytes(sz.failedSizes[0].bytes)} of ${sz.metric}, ${sz.failedRatio?.toFixed(1)}× the successful tasks' median (q=${med.q}: ${fmtBytes(med.v)})`,
    );
  if (byLogs)
    parts.push(
      `executor logs show a fetch of ${fmtBytes(sz.fetch.max)} against a median fetch of ${fmtBytes(sz.fetch.median)} on executors that failed`,
    );
  parts.push(
    `${sz.distinctFailedPartitions} distinct partition(s) of ${sz.numTasks} failed for task-caused reasons`,
  );
  return { big, even, concentrated, keys: [...focusKeys(ctx), ...sz.fetch.bigKeys], text: parts.join('; ') };
}

function skewFinding(ctx: RuleCtx, s: Skew, failing: Signal[]): Finding | undefined {
  if (!failing.length && !s.big) return undefined;
  // Oversized failing tasks concentrated on few partitions are skew whatever killed them (heap, container,
  // disk full while spilling): fixing the memory or disk only moves the failure.
  const confirmed = s.big && s.concentrated;
  const status = confirmed
    ? 'confirmed'
    : s.big
      ? 'inconclusive'
      : s.even || !s.concentrated
        ? 'dismissed'
        : 'inconclusive';
  const likelihood = confirmed ? 88 : s.big ? 55 : status === 'dismissed' ? 10 : 35;
  return finish(ctx, {
    category: 'spark.data_skew',
    title: confirmed ? 'Data skew: the failing partition is far larger than the rest' : 'Data skew',
    likelihood,
    status,
    for: s.big ? [...s.keys, ...keysOf(failing)] : [],
    against: s.big ? [] : focusKeys(ctx),
    reasoning: `${s.text}.${s.big ? '' : ' The failing tasks are not bigger than the successful ones.'}`,
    culprit: focusStage(ctx),
    decisive: confirmed,
    summary: `The failing task(s) of stage ${ctx.f.focus?.stageId} carried far more data than the others (${s.text}); the ${failing.length ? 'memory failure' : 'task failure'} is a consequence of the skew.`,
    deterministic: true,
  });
}

function heapFinding(ctx: RuleCtx, m: Mem, skewed: boolean, s?: Skew): Finding | undefined {
  if (!m.heap.length && !m.kill.length) return undefined;
  const heapExecs = execsOf(m.heap).size;
  const killExecs = execsOf(m.kill).size;
  const gc = ctx.sz?.gcRatio;
  const wins = heapExecs > 0 && heapExecs >= killExecs && !skewed;
  const likelihood = wins
    ? 72 + (gc !== undefined && gc >= 0.15 ? 10 : 0) + (s && !s.concentrated ? 5 : 0) + (s?.even ? 5 : 0)
    : heapExecs > 0 && !skewed
      ? 40
      : 15;
  const gcText = gc !== undefined ? `GC takes ${Math.round(gc * 100)}% of task time` : 'GC time unknown';
  const fillText = m.heapFill !== undefined ? `peak heap ${Math.round(m.heapFill * 100)}% of the heap` : '';
  return finish(ctx, {
    category: 'spark.executor_oom',
    title: 'Executors ran out of heap',
    likelihood,
    status: wins ? 'confirmed' : heapExecs > 0 && !skewed ? 'inconclusive' : 'dismissed',
    for: [...keysOf(m.heap), 'executors:memory', ...(wins ? focusKeys(ctx) : [])],
    against: [...keysOf(m.kill), ...(skewed ? (s?.keys ?? []) : [])],
    reasoning: [
      `Heap OOM signatures on ${heapExecs} executor(s), container memory kills on ${killExecs}`,
      gcText,
      fillText,
      skewed ? 'but the failing tasks are the oversized ones (skew), so more heap only hides the cause' : '',
      s?.even ? 'failing tasks are no bigger than successful ones' : '',
    ]
      .filter(Boolean)
      .join('; '),
    culprit: focusStage(ctx),
    decisive: heapExecs > 0,
    summary: `Executors ran out of JVM heap on evenly sized work in stage ${ctx.f.focus?.stageId} (${gcText}${fillText ? `, ${fillText}` : ''}).`,
    deterministic: true,
  });
}

function overheadFinding(ctx: RuleCtx, m: Mem, skewed: boolean, s?: Skew): Finding | undefined {
  const explicit = m.kill.length > 0;
  if (!explicit && !m.k137.length) return undefined;
  const killExecs = execsOf(m.kill).size;
  const heapExecs = execsOf(m.heap).size;
  const heapLow = m.heapFill !== undefined && m.heapFill < 0.8;
  const wins = explicit && killExecs > heapExecs && !skewed;
  const likelihood = wins
    ? 80 + (heapLow ? 8 : 0) + (s?.even || (s && !s.concentrated) ? 4 : 0)
    : explicit
      ? 35
      : 40;
  const py = m.pythonRss ? `Python worker RSS up to ${fmtBytes(m.pythonRss)}` : '';
  const fill =
    m.heapFill !== undefined ? `JVM heap peaked at ${Math.round(m.heapFill * 100)}% of its size` : '';
  return finish(ctx, {
    category: 'spark.memory_overhead_exceeded',
    title: 'Containers killed for exceeding memory overhead',
    likelihood,
    status: wins ? 'confirmed' : skewed || heapExecs > killExecs ? 'dismissed' : 'inconclusive',
    for: [...keysOf(m.kill), ...keysOf(m.k137), 'executors:memory', 'env:props'],
    against: [...keysOf(m.heap), ...(skewed ? (s?.keys ?? []) : [])],
    reasoning: [
      explicit
        ? `Containers killed for memory on ${killExecs} executor(s); heap OOM on ${heapExecs}`
        : 'Exit code 137 (SIGKILL) without an explicit memory-kill diagnostic',
      fill,
      py,
      skewed ? 'the killed tasks are the oversized ones (skew)' : '',
    ]
      .filter(Boolean)
      .join('; '),
    culprit: focusStage(ctx),
    decisive: explicit,
    summary: `The resource manager killed executor containers of stage ${ctx.f.focus?.stageId} for exceeding their memory limit while the JVM heap was not full${fill ? ` (${fill})` : ''}${py ? `; ${py}` : ''}: off-heap/overhead memory, not heap.`,
    deterministic: true,
  });
}

/** Findings for data_skew, executor_oom and memory_overhead_exceeded, weighed against each other. */
export function memoryFindings(ctx: RuleCtx): Finding[] {
  const m = memFacts(ctx);
  const s = skewFacts(ctx);
  const lost = sigs(ctx.f, ['rpc_disassociated'], (x) => !x.driver);
  const failing = [...m.heap, ...m.kill, ...m.k137, ...lost];
  const skew = s ? skewFinding(ctx, s, failing) : undefined;
  const skewed = skew?.status === 'confirmed';
  return [skew, heapFinding(ctx, m, skewed, s), overheadFinding(ctx, m, skewed, s)].filter(
    (x): x is Finding => x !== undefined,
  );
}
