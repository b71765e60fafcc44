import type { Task, TaskInstance } from './schema.ts';

/** Task states that mean the task itself failed (not a casualty). */
export const FAILED_STATES = new Set(['failed', 'shutdown']);
/** Task states of casualties: never ran because something upstream failed. */
export const CASUALTY_STATES = new Set(['upstream_failed']);

/** Upstream task ids of every task, from the graph's `downstream_task_ids`. */
export function upstreamMap(tasks: Task[]): Map<string, string[]> {
  const up = new Map<string, string[]>();
  for (const t of tasks) {
    if (!up.has(t.task_id)) up.set(t.task_id, []);
    for (const d of t.downstream_task_ids) up.set(d, [...(up.get(d) ?? []), t.task_id]);
  }
  return up;
}

/** The state of each task (a mapped task is failed when any of its instances failed). */
export function stateOf(tis: TaskInstance[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const ti of tis) {
    const s = ti.state ?? 'none';
    const prev = out.get(ti.task_id);
    if (!prev || FAILED_STATES.has(s) || (CASUALTY_STATES.has(s) && !FAILED_STATES.has(prev)))
      out.set(ti.task_id, s);
  }
  return out;
}

const endOf = (tis: TaskInstance[], id: string) =>
  Math.min(...tis.filter((t) => t.task_id === id).map((t) => Date.parse(t.end_date ?? '') || Infinity));

/**
 * Traces upstream first: from `start` (the alerted task) or, without one, from every failed task, walks
 * the graph through failed / upstream_failed tasks to the first failing task(s): failed tasks with no
 * failed ancestor. Earliest failure first. Without a graph, every failed task is a root.
 */
export function rootFailures(tasks: Task[], tis: TaskInstance[], start?: string): string[] {
  const state = stateOf(tis);
  const failed = [...state].filter(([, s]) => FAILED_STATES.has(s)).map(([id]) => id);
  const up = upstreamMap(tasks);
  const order = (ids: string[]) => [...new Set(ids)].sort((a, b) => endOf(tis, a) - endOf(tis, b));
  if (!tasks.length) return order(failed);
  const ancestorsFailed = (id: string): string[] => {
    const seen = new Set<string>();
    const roots: string[] = [];
    const walk = (cur: string) => {
      for (const p of up.get(cur) ?? []) {
        if (seen.has(p)) continue;
        seen.add(p);
        const s = state.get(p) ?? '';
        if (FAILED_STATES.has(s) || CASUALTY_STATES.has(s)) {
          const deeper = ancestorsFailed(p);
          if (FAILED_STATES.has(s) && !deeper.length) roots.push(p);
          else if (deeper.length) roots.push(...deeper);
          else walk(p);
        }
      }
    };
    walk(id);
    return roots;
  };
  const starts = start && state.has(start) ? [start] : failed;
  const roots = starts.flatMap((s) => {
    const above = ancestorsFailed(s);
    if (above.length) return above;
    return FAILED_STATES.has(state.get(s) ?? '') ? [s] : [];
  });
  if (!roots.length && start) return order(failed.filter((f) => !ancestorsFailed(f).length));
  return order(roots);
}

/** The path of task ids from a root failure down to `target`, when one exists (for evidence). */
export function pathTo(tasks: Task[], root: string, target: string): string[] | undefined {
  const down = new Map(tasks.map((t) => [t.task_id, t.downstream_task_ids]));
  const queue: string[][] = [[root]];
  const seen = new Set([root]);
  while (queue.length) {
    const path = queue.shift() as string[];
    const last = path[path.length - 1] as string;
    if (last === target) return path;
    for (const d of down.get(last) ?? [])
      if (!seen.has(d)) {
        seen.add(d);
        queue.push([...path, d]);
      }
  }
  return undefined;
}
