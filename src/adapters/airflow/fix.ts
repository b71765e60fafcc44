/**
 * Airflow fix templates: a task's `execution_timeout` sized from its successful durations in the DAG's
 * history (`airflow.task_timeout`) and `retries` with exponential backoff for transient connection errors
 * (`airflow.connection_error`), each with a DagBag check (pytest) that fails on the pinned failing state.
 */
import { posix } from 'node:path';
import type { Report } from '../../core/report.ts';
import type { PlatformFixer, ProposeInput, TemplateOutcome } from '../git/fixer.ts';
import { roundUp } from '../git/fixer.ts';
import { ensureImport, findCalls, setKwarg } from '../git/pycall.ts';
import { type Located, normalizeDir, type RepoEntry } from '../git/repos.ts';
import type { AirflowSnapshot } from './schema.ts';

/** The DAG file in a mapped repository, from the DAG's `fileloc` under a mapped DAGs folder. */
export function locateAirflow(_report: Report, s: AirflowSnapshot, repos: RepoEntry[]): Located {
  const fileloc = s.dag?.fileloc ?? undefined;
  if (!fileloc)
    return {
      ok: false,
      reason: 'Airflow did not report the DAG file (fileloc), so no repository maps to it.',
    };
  for (const repo of repos)
    for (const m of repo.airflow) {
      const folder = normalizeDir(m.dagsFolder);
      const rel = fileloc.replace(/^\/+/, '');
      if (!rel.startsWith(folder) || (m.dags && !m.dags.includes(s.dagId))) continue;
      const file = posix.normalize(`${m.path}${rel.slice(folder.length)}`);
      return {
        ok: true,
        location: { repo, files: [file], allowed: [file, m.tests], basis: `DAG fileloc ${fileloc}` },
      };
    }
  return { ok: false, reason: `No repository in HEAL_REPOS_FILE maps the DAG file ${fileloc}.` };
}

const seconds = (t: { days: number; seconds: number; microseconds: number }) =>
  t.days * 86_400 + t.seconds + t.microseconds / 1e6;

function timedelta(sec: number): string {
  if (sec % 3600 === 0) return `timedelta(hours=${sec / 3600})`;
  return `timedelta(minutes=${Math.round(sec / 60)})`;
}

const minutes = (sec: number) => `${Math.round(sec / 60)} min`;

/** Successful durations (s) of one task in the DAG's history runs, oldest first. */
export function successDurations(s: AirflowSnapshot, taskId: string): number[] {
  return s.history
    .flatMap((h) => h.tasks.filter((t) => t.taskId === taskId && t.state === 'success'))
    .flatMap((t) => (typeof t.duration === 'number' ? [t.duration] : []))
    .reverse();
}

function taskTest(input: ProposeInput<AirflowSnapshot>, taskId: string, name: string, body: string[]) {
  const dagFile = input.location.files[0] ?? '';
  const testsDir = input.location.allowed[1] ?? 'tests/';
  const slug = `${input.facts.dagId}_${taskId}`.replace(/[^a-zA-Z0-9]+/g, '_').toLowerCase();
  const path = posix.join(testsDir, `test_heal_${slug}_${name}.py`);
  const rel = posix.relative(posix.dirname(path), dagFile);
  const content = `"""Added by Heal: the DAG setting whose value failed ${input.facts.dagId}.${taskId}. Runs with pytest."""
import pathlib

from airflow.models import DagBag

DAG_FILE = (pathlib.Path(__file__).resolve().parent / ${JSON.stringify(rel)}).resolve()


def task():
    bag = DagBag(dag_folder=str(DAG_FILE), include_examples=False)
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(${JSON.stringify(input.facts.dagId)}).get_task(${JSON.stringify(taskId)})


${body.join('\n')}
`;
  return { path, content };
}

type Edit = { ok: true; text: string } | { ok: false; words: string };

function editTask(text: string, file: string, taskId: string, kwargs: Record<string, string>): Edit {
  const calls = findCalls(text, 'task_id', taskId);
  if (calls.length !== 1)
    return {
      ok: false,
      words: `${calls.length ? 'Several calls' : 'No call'} with task_id="${taskId}" in ${file}: set it by hand.`,
    };
  let next = text;
  for (const [k, v] of Object.entries(kwargs)) {
    const call = findCalls(next, 'task_id', taskId)[0];
    if (call) next = setKwarg(next, call, k, v);
  }
  return { ok: true, text: next };
}

function executionTimeout(
  input: ProposeInput<AirflowSnapshot>,
  text: string,
  taskId: string,
): TemplateOutcome {
  const file = input.location.files[0] ?? '';
  const task = input.facts.tasks.find((t) => t.task_id === taskId);
  const current = task?.execution_timeout ? seconds(task.execution_timeout) : undefined;
  const past = successDurations(input.facts, taskId);
  const longest = Math.max(0, ...past);
  if (!past.length || current === undefined)
    return {
      ok: false,
      words: `Raise execution_timeout of ${taskId} above its real duration, or find what got slower: ${past.length ? 'Airflow did not report the current timeout' : 'no successful run in the history sizes the new limit'}.`,
    };
  const limit = roundUp(Math.max(longest * 1.5, current * 1.25), 900);
  const edit = editTask(text, file, taskId, { execution_timeout: timedelta(limit) });
  if (!edit.ok) return edit;
  const floor = Math.ceil(longest * 1.25);
  const test = taskTest(input, taskId, 'timeout', [
    `# Successful durations of ${taskId} (s) in the runs before the failure, from Airflow's history.`,
    `RECENT = [${past.map((d) => d.toFixed(0)).join(', ')}]`,
    '',
    '',
    'def test_execution_timeout_leaves_headroom_over_recent_durations():',
    '    timeout = task().execution_timeout',
    '    assert timeout is not None',
    '    assert timeout.total_seconds() >= 1.25 * max(RECENT)',
  ]);
  return {
    ok: true,
    fix: {
      template: 'airflow.execution_timeout',
      title: `Raise execution_timeout of ${input.facts.dagId}.${taskId} to ${minutes(limit)}`,
      explain: `Set execution_timeout=${timedelta(limit)} on ${taskId} in ${file}: it was ${minutes(current)} while its last ${past.length} successful run(s) took up to ${minutes(longest)} (1.5× that, rounded up to 15 min). Also find what made it slower.`,
      changes: [{ path: file, content: ensureImport(edit.text, 'datetime', 'timedelta') }],
      prevention: {
        title: `Check ${taskId}'s timeout against its recent durations`,
        changes: [test],
        why: `On the pinned state the timeout was ${current.toFixed(0)} s, below 1.25 × ${longest.toFixed(0)} s = ${floor} s, so the assertion fails.`,
      },
    },
  };
}

function retries(input: ProposeInput<AirflowSnapshot>, text: string, taskId: string): TemplateOutcome {
  const file = input.location.files[0] ?? '';
  const task = input.facts.tasks.find((t) => t.task_id === taskId);
  const had = task?.retries ?? undefined;
  if (had !== undefined && had >= 3)
    return {
      ok: false,
      words: `${taskId} already retries ${had} times: rerun it, and ask the owner of the external system.`,
    };
  const edit = editTask(text, file, taskId, {
    retries: '3',
    retry_delay: 'timedelta(minutes=5)',
    retry_exponential_backoff: 'True',
  });
  if (!edit.ok) return edit;
  const test = taskTest(input, taskId, 'retries', [
    'def test_retries_transient_errors_with_backoff():',
    '    t = task()',
    '    assert t.retries >= 3',
    '    assert t.retry_exponential_backoff',
  ]);
  return {
    ok: true,
    fix: {
      template: 'airflow.retries',
      title: `Retry ${input.facts.dagId}.${taskId} with exponential backoff`,
      explain: `Set retries=3, retry_delay=5 min and retry_exponential_backoff=True on ${taskId} in ${file}: the failure was a transient connection error and the task had ${had ?? 'the default'} retries.`,
      changes: [{ path: file, content: ensureImport(edit.text, 'datetime', 'timedelta') }],
      prevention: {
        title: `Check that ${taskId} retries transient errors`,
        changes: [test],
        why: `On the pinned state ${taskId} had retries=${had ?? 'default'}, so \`retries >= 3\` fails.`,
      },
    },
  };
}

export const airflowFixer: PlatformFixer<AirflowSnapshot> = {
  locate: locateAirflow,
  async propose(input): Promise<TemplateOutcome> {
    const rc = input.report.rootCause;
    const file = input.location.files[0] ?? '';
    const text = await input.ws.read(file);
    if (text === null) return { ok: false, words: `The DAG file ${file} does not exist at the base commit.` };
    if (rc?.culprit.kind !== 'task') return { ok: false, words: 'The root cause names no task to change.' };
    if (rc.category === 'airflow.task_timeout') return executionTimeout(input, text, rc.culprit.id);
    if (rc.category === 'airflow.connection_error') return retries(input, text, rc.culprit.id);
    return { ok: false, words: 'No mechanical Airflow fix applies to this root cause.' };
  },
};
