import { looksLikeInjection } from '../../../core/injection.ts';
import type { Category } from '../../../core/taxonomy.ts';
import { EXTERNAL_STATE, SIGNATURES, type Sig, STATE_CHANGE_CONSEQUENCES } from '../patterns.ts';
import type { TryLog } from '../schema.ts';

/** Which class wins when one try shows several: the specific cause before its consequences. */
export const PRECEDENCE: Sig[] = [
  'sensor_timeout',
  'task_timeout',
  'import_error',
  'missing_connection',
  'oom',
  'auth',
  'schema',
  'connection',
  'zombie',
  'sigterm',
];

export const CATEGORY_OF: Record<Sig, Category> = {
  sensor_timeout: 'airflow.sensor_timeout',
  task_timeout: 'airflow.task_timeout',
  oom: 'airflow.oom_killed',
  zombie: 'airflow.zombie_task',
  sigterm: 'airflow.zombie_task',
  import_error: 'airflow.dag_import_error',
  missing_connection: 'airflow.missing_connection',
  auth: 'airflow.auth_error',
  schema: 'airflow.schema_drift',
  connection: 'airflow.connection_error',
};

/**
 * A line that states the failure rather than a warning or progress note: ERROR/CRITICAL lines, the
 * exception line of a traceback, and the task runner's non-zero return code.
 */
export function isFatalLine(text: string): boolean {
  if (/\bWARN(?:ING)?\b/.test(text)) return false;
  if (/\b(?:INFO|DEBUG)\b/.test(text)) return /return code (?!0\b)|exit code (?!0\b)/.test(text);
  return true;
}

export interface Signal {
  sig: Sig;
  n: number;
  text: string;
  fatal: boolean;
}

/** Every signature in a try's kept lines (injection-looking lines skipped). */
export function signalsOf(log: TryLog): Signal[] {
  const out: Signal[] = [];
  for (const l of log.lines) {
    if (looksLikeInjection(l.text)) continue;
    if (/^\s+File "/.test(l.text)) continue;
    for (const [sig, re] of SIGNATURES)
      if (re.test(l.text)) out.push({ sig, n: l.n, text: l.text, fatal: isFatalLine(l.text) });
  }
  return out;
}

export interface TryVerdict {
  tryNumber: number;
  /** The class this try failed with, when a signature says so. */
  sig?: Sig;
  /** True when the deciding signature is on a fatal line (not a warning). */
  fatal: boolean;
  line?: string;
  signals: Signal[];
  /**
   * The line saying the try's state was changed from outside, when nothing the task raised before it
   * decides: the try ended because of it (see EXTERNAL_STATE), and `sig` is unset.
   */
  external?: { n: number; text: string };
}

/** The first external-state-change line of a try (injection-looking lines skipped). */
function externalLine(log: TryLog): { n: number; text: string } | undefined {
  const l = log.lines.find((x) => EXTERNAL_STATE.test(x.text) && !looksLikeInjection(x.text));
  return l ? { n: l.n, text: l.text } : undefined;
}

const rank = (s: Sig) => PRECEDENCE.indexOf(s);

/** The class a try failed with: the highest-precedence fatal signature, else the best warning one. */
export function verdictOf(log: TryLog): TryVerdict {
  const signals = signalsOf(log);
  const pick = (xs: Signal[]) => [...xs].sort((a, b) => rank(a.sig) - rank(b.sig) || b.n - a.n)[0];
  const fatal = pick(signals.filter((s) => s.fatal));
  const best = fatal ?? pick(signals);
  const ext = externalLine(log);
  const before = signals.filter(
    (s) => ext && s.fatal && s.n < ext.n && !STATE_CHANGE_CONSEQUENCES.has(s.sig),
  );
  if (ext && before.length === 0) return { tryNumber: log.tryNumber, fatal: false, signals, external: ext };
  return {
    tryNumber: log.tryNumber,
    ...(best ? { sig: best.sig, line: best.text } : {}),
    fatal: !!fatal,
    signals,
  };
}
