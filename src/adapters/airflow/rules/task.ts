import type { Category } from '../../../core/taxonomy.ts';
import type { Finding } from '../../types.ts';
import { fmtS, tdSeconds } from '../evidence.ts';
import type { Sig } from '../patterns.ts';
import type { AirflowSnapshot } from '../schema.ts';
import { externalFindings } from './external.ts';
import { CATEGORY_OF, type TryVerdict, verdictOf } from './signals.ts';

export type Ids = (keys: Array<string | undefined>) => string[];

const TRANSIENT = new Set<Category>(['airflow.connection_error', 'airflow.zombie_task']);

const SUMMARY: Record<string, (task: string, extra: string) => string> = {
  'airflow.sensor_timeout': (t, x) =>
    `Sensor ${t} timed out: the data or event it waits for never arrived${x}. Trace the producer of the awaited data; Airflow itself is fine.`,
  'airflow.task_timeout': (t, x) =>
    `${t} exceeded its execution_timeout and was killed${x}. Find what got slower (data volume, query plan) or raise the timeout.`,
  'airflow.oom_killed': (t, x) =>
    `${t} was killed by the OS for memory (SIGKILL)${x}. Give it more memory or process smaller batches.`,
  'airflow.zombie_task': (t, x) =>
    `${t} lost its heartbeat (worker died or was restarted)${x}. Transient: rerun.`,
  'airflow.missing_connection': (t, x) =>
    `${t} uses a connection or variable that is not defined${x}. Define it.`,
  'airflow.auth_error': (t, x) =>
    `${t} had its credentials rejected or expired${x}. Rotate or fix the secret; a rerun will fail again.`,
  'airflow.schema_drift': (t, x) =>
    `${t} got data in a shape it does not expect${x}. Adapt the parser and add a schema expectation.`,
  'airflow.connection_error': (t, x) =>
    `${t} could not reach an external system${x}. Transient: rerun with retries/backoff.`,
  'airflow.dag_import_error': (t, x) => `${t}: the DAG could not be loaded${x}. Fix the DAG code.`,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Durations of the task in previous successful runs, and how the failing try compares. */
function historyNote(s: AirflowSnapshot, task: string, duration: number | null | undefined): string {
  const prev = s.history.flatMap((h) =>
    h.tasks
      .filter((t) => t.taskId === task && t.state === 'success' && t.duration)
      .map((t) => t.duration as number),
  );
  const m = prev.length ? median(prev) : undefined;
  if (!m || !duration) return '';
  const ratio = duration / m;
  return ratio >= 1.5
    ? `; it ran ${fmtS(duration)}, ${ratio.toFixed(1)}× its usual ${fmtS(m)}`
    : `; usual duration ${fmtS(m)}`;
}

function extraFor(s: AirflowSnapshot, task: string, sig: Sig, v: TryVerdict): string {
  const tries = s.tries[task] ?? [];
  const last = tries.find((t) => t.tryNumber === v.tryNumber) ?? tries.at(-1);
  if (sig === 'task_timeout') {
    const limit = tdSeconds(s.tasks.find((t) => t.task_id === task)?.execution_timeout);
    return `${limit ? ` (limit ${fmtS(limit)})` : ''}${historyNote(s, task, last?.duration)}`;
  }
  if (sig === 'sensor_timeout') {
    const poke = s.logs
      .flatMap((l) => l.lines)
      .map((l) => l.text.match(/Poking for (?:key|file|path|table|partition)?\s*:?\s*(\S+)/)?.[1])
      .find(Boolean);
    return poke ? ` (${poke})` : '';
  }
  if (sig === 'oom') return historyNote(s, task, last?.duration);
  return v.line ? ` ("${v.line.replace(/^\[[^\]]*\]\s*/, '').slice(0, 160)}")` : '';
}

/** Verdicts of every read try of a task, latest last. */
export function verdicts(s: AirflowSnapshot, task: string): TryVerdict[] {
  return s.logs
    .filter((l) => l.taskId === task && !l.baseline)
    .sort((a, b) => a.tryNumber - b.tryNumber)
    .map(verdictOf);
}

/** Does the latest try's duration sit at the task's execution_timeout (within 3 %)? */
export function durationAtTimeout(s: AirflowSnapshot, task: string): boolean {
  const limit = tdSeconds(s.tasks.find((t) => t.task_id === task)?.execution_timeout);
  const d = (s.tries[task] ?? []).at(-1)?.duration;
  return !!limit && !!d && Math.abs(d - limit) / limit <= 0.03;
}

/**
 * The findings for one root failure: the latest try decides the category (confirmed when a fatal line
 * carries the signature); classes seen only in earlier tries or in warnings are weaker hypotheses.
 */
export function taskFindings(s: AirflowSnapshot, task: string, ids: Ids, rank: number): Finding[] {
  const vs = verdicts(s, task);
  const latest = vs.at(-1);
  if (latest?.external) return externalFindings(task, latest, ids);
  const logKeys = (n?: number) =>
    vs.filter((v) => n === undefined || v.tryNumber === n).map((v) => `log:${task}:${v.tryNumber}`);
  const base = [`task:${task}`, 'graph'];
  const out: Finding[] = [];
  let sig = latest?.sig;
  let fatal = latest?.fatal ?? false;
  if (!sig && durationAtTimeout(s, task)) [sig, fatal] = ['task_timeout', false];
  if (sig && latest) {
    const category = CATEGORY_OF[sig];
    const same = vs.filter((v) => v.sig && CATEGORY_OF[v.sig] === category).length;
    const atLimit = sig === 'task_timeout' && durationAtTimeout(s, task);
    const likelihood =
      (fatal ? 86 : 58) + Math.min(6, Math.max(0, same - 1) * 3) + (atLimit ? 4 : 0) - rank * 8;
    out.push({
      category,
      title: `${task}: ${category.split('.')[1]?.replace(/_/g, ' ')}`,
      likelihood,
      status: fatal || atLimit ? 'confirmed' : 'inconclusive',
      evidenceFor: ids([
        ...logKeys(latest.tryNumber),
        ...base,
        `history:${task}`,
        `baseline:${task}`,
        ...logKeys(),
      ]),
      evidenceAgainst: [],
      reasoning: `The latest try (${latest.tryNumber}) of ${task} failed with: ${latest.line?.slice(0, 240) ?? 'its duration at execution_timeout'}${same > 1 ? `; ${same} of ${vs.length} tries failed the same way` : ''}${atLimit ? '; the try ran for exactly its execution_timeout' : ''}.`,
      culprit: { kind: 'task', id: task },
      decisive: fatal,
      summary: (SUMMARY[category] ?? ((t: string) => `${t} failed.`))(task, extraFor(s, task, sig, latest)),
      ...(TRANSIENT.has(category) ? { deterministic: false } : { deterministic: true }),
    });
  }
  const main = sig ? CATEGORY_OF[sig] : undefined;
  const seen = new Set<Category>(main ? [main] : []);
  for (const v of vs)
    for (const x of v.signals) {
      const c = CATEGORY_OF[x.sig];
      if (seen.has(c)) continue;
      seen.add(c);
      const earlier = v !== latest;
      out.push({
        category: c,
        title: `${task}: ${c.split('.')[1]?.replace(/_/g, ' ')} (${earlier ? `try ${v.tryNumber}` : 'secondary signal'})`,
        likelihood: earlier ? 30 : 20,
        status: 'inconclusive',
        evidenceFor: ids(logKeys(v.tryNumber)),
        evidenceAgainst: ids(latest ? logKeys(latest.tryNumber) : []),
        reasoning: earlier
          ? `Try ${v.tryNumber} showed "${x.text.slice(0, 200)}", but the latest try decides${main ? ` and it failed with ${main}` : ''}.`
          : `"${x.text.slice(0, 200)}" is ${x.fatal ? 'a secondary error' : 'a warning'} in the latest try${main ? `, a consequence next to ${main}` : ''}.`,
        culprit: { kind: 'task', id: task },
        decisive: false,
        summary: `${task} also showed signs of ${c}.`,
      });
    }
  return out;
}
