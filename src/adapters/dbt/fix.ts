/**
 * dbt fix templates on the exact files the manifest names (`original_file_path` under the mapped project):
 * a column rename following an upstream rename (`dbt.missing_column`, when the error or an input names the
 * new column) and an undefined macro or missing `ref` renamed to the one the project defines
 * (`dbt.compilation_error`). A missing-column fix carries a column test in the upstream model's YAML.
 */
import { posix } from 'node:path';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import type { Report } from '../../core/report.ts';
import type {
  PlatformFixer,
  PreventionChange,
  ProposeInput,
  TemplateOutcome,
  Workspace,
} from '../git/fixer.ts';
import type { Located, RepoEntry } from '../git/repos.ts';
import { classifyMessage } from './rules/classify.ts';
import type { DbtSnapshot, ScopedNode } from './schema.ts';

const short = (id: string) => id.split('.').slice(2).join('.') || id;

/** The failing node's files under the mapped dbt project (manifest `original_file_path`). */
export function locateDbt(_report: Report, s: DbtSnapshot, repos: RepoEntry[]): Located {
  const failing = failingNode(s);
  if (!failing?.originalFile)
    return { ok: false, reason: 'The dbt artifacts name no file for the failing node.' };
  for (const repo of repos)
    for (const m of repo.dbt) {
      if (m.project && m.project !== s.projectName) continue;
      const file = posix.normalize(`${m.path}${failing.originalFile}`);
      return {
        ok: true,
        location: {
          repo,
          files: [file],
          allowed: [m.path],
          basis: `dbt project ${s.projectName ?? '?'}: ${short(failing.uniqueId)} original_file_path ${failing.originalFile}`,
        },
      };
    }
  return {
    ok: false,
    reason: `No repository in HEAL_REPOS_FILE maps the dbt project ${s.projectName ?? '(unnamed)'}.`,
  };
}

/** The first errored model (what a fix edits). */
function failingNode(s: DbtSnapshot): ScopedNode | undefined {
  const r = s.results.find((x) => /^(?:error|runtime error)$/i.test(x.status) && s.nodes[x.uniqueId]);
  return r ? s.nodes[r.uniqueId] : undefined;
}

function errorText(s: DbtSnapshot, id: string): string {
  const msg = s.results.find((r) => r.uniqueId === id)?.message ?? '';
  return [msg, ...s.log.map((l) => l.text)].join('\n');
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}

/** The one candidate close to `name` (containment or ≤ 1/3 edits), or undefined when none or several. */
export function nearest(name: string, candidates: string[]): string | undefined {
  const n = name.toLowerCase();
  const close = [...new Set(candidates)].filter((c) => {
    const x = c.toLowerCase();
    if (x === n) return false;
    if (x.length >= 4 && (x.includes(n) || n.includes(x))) return true;
    return distance(x, n) <= Math.floor(Math.max(x.length, n.length) / 3);
  });
  return close.length === 1 ? close[0] : undefined;
}

/** A replacement column the evidence names: the database's own suggestion, else a unique near input column. */
export function renamedColumn(
  s: DbtSnapshot,
  node: ScopedNode,
  missing: string,
): { name: string; from?: ScopedNode; basis: string } | undefined {
  const text = errorText(s, node.uniqueId);
  const hint =
    /Perhaps you meant to reference the column "(?:[\w$]+\.)?([\w$]+)"/.exec(text)?.[1] ??
    /Did you mean (?:one of the following\? \[)?`?(?:[\w$]+\.)?([\w$]+)`?\s*[?\],]/i.exec(text)?.[1];
  const inputs = node.dependsOn.map((d) => s.nodes[d]).filter((x): x is ScopedNode => x !== undefined);
  const cols = (i: ScopedNode) => [
    ...i.columns.map((c) => c.name),
    ...(s.warehouse.find((p) => p.nodeId === i.uniqueId)?.columns ?? []).map((c) => c.name),
  ];
  const owner = (name: string) =>
    inputs.find((i) => cols(i).some((c) => c.toLowerCase() === name.toLowerCase()));
  if (hint && hint.toLowerCase() !== missing.toLowerCase()) {
    const from = owner(hint);
    return { name: hint, ...(from ? { from } : {}), basis: `the database suggests ${hint}` };
  }
  const lacking = inputs.filter((i) => !cols(i).some((c) => c.toLowerCase() === missing.toLowerCase()));
  const near = nearest(missing, lacking.flatMap(cols));
  if (!near) return undefined;
  const from = owner(near);
  return {
    name: near,
    ...(from ? { from } : {}),
    basis: `${from ? short(from.uniqueId) : 'an input'} has ${near}`,
  };
}

/** Renames `qual.missing` / `missing` to the new name, keeping a bare select item's output name. */
export function renameInSql(sql: string, missing: string, next: string, qualifier?: string): string {
  const q = qualifier ? `${qualifier.replace(/[$]/g, '\\$')}\\.` : '(?:[\\w$]+\\.)?';
  const re = new RegExp(
    `(^|[^\\w$.])(${q})${missing.replace(/[$]/g, '\\$')}(?![\\w$])(\\s*(?:,|\\n\\s*from\\b))?`,
    'gim',
  );
  return sql.replace(re, (_m, pre, qual, tail) => {
    const selectItem = tail !== undefined && /(?:^|,|select)\s*$/i.test(`${pre}`);
    return `${pre}${qual}${next}${selectItem ? ` as ${missing}` : ''}${tail ?? ''}`;
  });
}

async function modelYaml(
  ws: Workspace,
  dir: string,
  model: string,
): Promise<{ path: string; text: string } | undefined> {
  for (const path of (await ws.list(dir)).filter(
    (p) => /\.ya?ml$/.test(p) && posix.dirname(p) === posix.normalize(dir),
  )) {
    const text = await ws.read(path);
    if (text && new RegExp(`-\\s*name:\\s*["']?${model}["']?\\s*$`, 'm').test(text)) return { path, text };
  }
  return undefined;
}

/** Adds a `not_null` column test to `model` in its YAML (creating the column entry when needed). */
export function addColumnTest(text: string, model: string, column: string): string | undefined {
  const doc = parseDocument(text);
  const models = doc.get('models');
  if (!isSeq(models)) return undefined;
  const entry = models.items.find((m): m is YAMLMap => isMap(m) && m.get('name') === model);
  if (!entry) return undefined;
  const key = /(^|\n)\s*tests:/.test(text) && !/data_tests:/.test(text) ? 'tests' : 'data_tests';
  let columns = entry.get('columns');
  if (!isSeq(columns)) {
    entry.set('columns', doc.createNode([]));
    columns = entry.get('columns');
  }
  if (!isSeq(columns)) return undefined;
  const col = columns.items.find((c): c is YAMLMap => isMap(c) && c.get('name') === column);
  if (!col) columns.add(doc.createNode({ name: column, [key]: ['not_null'] }));
  else {
    const tests = col.get(key) ?? col.get(key === 'tests' ? 'data_tests' : 'tests');
    if (isSeq(tests) && tests.items.some((t) => String(t) === 'not_null' || (isMap(t) && t.has('not_null'))))
      return undefined;
    if (isSeq(tests)) tests.add('not_null');
    else col.set(key, doc.createNode(['not_null']));
  }
  return doc.toString();
}

async function columnPrevention(
  input: ProposeInput<DbtSnapshot>,
  up: ScopedNode,
  column: string,
  missing: string,
): Promise<PreventionChange | null> {
  const project = input.location.allowed[0] ?? '';
  if (!up.originalFile) return null;
  const yml = await modelYaml(input.ws, posix.join(project, posix.dirname(up.originalFile)), up.name);
  const next = yml && addColumnTest(yml.text, up.name, column);
  if (!yml || !next) return null;
  return {
    title: `Test ${up.name}.${column}, the column its children read`,
    changes: [{ path: yml.path, content: next }],
    why: `On the pinned state ${up.name} no longer had ${missing}: a column test on the column its children read fails in ${up.name}'s own tests, where the rename happened, instead of breaking a downstream model.`,
  };
}

async function missingColumn(
  input: ProposeInput<DbtSnapshot>,
  node: ScopedNode,
  text: string,
): Promise<TemplateOutcome> {
  const subject = classifyMessage(
    input.facts.results.find((r) => r.uniqueId === node.uniqueId)?.message,
  ).subject;
  const parts = (subject ?? '').split('.');
  const missing = parts.pop() ?? '';
  const qualifier = parts.pop();
  const renamed = missing ? renamedColumn(input.facts, node, missing) : undefined;
  if (!renamed)
    return {
      ok: false,
      words: `${node.name} selects ${missing || 'a column'} that no input has, and nothing names a replacement: remove it or add it upstream.`,
    };
  const file = input.location.files[0] ?? '';
  const next = renameInSql(text, missing, renamed.name, qualifier);
  if (next === text)
    return {
      ok: false,
      words: `${file} does not mention ${missing}: the compiled SQL comes from elsewhere (a macro?).`,
    };
  return {
    ok: true,
    fix: {
      template: 'dbt.rename_column',
      title: `${node.name}: read ${renamed.name} instead of ${missing}`,
      explain: `Replace ${missing} with ${renamed.name} in ${file} (${renamed.basis}), keeping the output column name.`,
      changes: [{ path: file, content: next }],
      prevention: renamed.from ? await columnPrevention(input, renamed.from, renamed.name, missing) : null,
    },
  };
}

async function modelNames(ws: Workspace, project: string): Promise<string[]> {
  return (await ws.list(project)).filter((p) => p.endsWith('.sql')).map((p) => posix.basename(p, '.sql'));
}

async function compilation(
  input: ProposeInput<DbtSnapshot>,
  node: ScopedNode,
  text: string,
): Promise<TemplateOutcome> {
  const c = classifyMessage(input.facts.results.find((r) => r.uniqueId === node.uniqueId)?.message);
  const file = input.location.files[0] ?? '';
  const subject = c.subject?.split('.').pop();
  const isMacro = /is undefined/.test(c.signature);
  const candidates = isMacro
    ? input.facts.macros
    : await modelNames(input.ws, input.location.allowed[0] ?? '');
  const near = subject ? nearest(subject, candidates) : undefined;
  if (!subject || !near)
    return {
      ok: false,
      words: `Fix the ${isMacro ? 'macro call' : 'reference'} in ${file}: the project defines no single close match for ${subject ?? 'it'}.`,
    };
  const re = isMacro
    ? new RegExp(`(?<![\\w.])${subject}(?=\\s*\\()`, 'g')
    : new RegExp(`(ref\\(\\s*["'])${subject}(["'])`, 'g');
  const next = text.replace(re, isMacro ? near : `$1${near}$2`);
  if (next === text)
    return { ok: false, words: `${file} does not mention ${subject}; it may come from a macro.` };
  return {
    ok: true,
    fix: {
      template: isMacro ? 'dbt.rename_macro' : 'dbt.fix_ref',
      title: `${node.name}: ${isMacro ? 'call' : 'ref'} ${near} instead of ${subject}`,
      explain: `Replace ${subject} with ${near} in ${file}: the project defines ${isMacro ? 'a macro' : 'a model'} ${near} and no ${subject}. Run \`dbt compile\` in CI to catch the next one.`,
      changes: [{ path: file, content: next }],
      prevention: null,
    },
  };
}

export const dbtFixer: PlatformFixer<DbtSnapshot> = {
  locate: locateDbt,
  async propose(input): Promise<TemplateOutcome> {
    const node = failingNode(input.facts);
    const file = input.location.files[0] ?? '';
    const text = await input.ws.read(file);
    if (!node || text === null)
      return { ok: false, words: `The model file ${file} does not exist at the base commit.` };
    const category = input.report.rootCause?.category;
    if (category === 'dbt.missing_column') return missingColumn(input, node, text);
    if (category === 'dbt.compilation_error') return compilation(input, node, text);
    return { ok: false, words: 'No mechanical dbt fix applies to this root cause.' };
  },
};
