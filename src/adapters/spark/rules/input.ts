import { looksLikeInjection } from '../../../core/injection.ts';
import type { Culprit } from '../../../core/report.ts';
import type { Category } from '../../../core/taxonomy.ts';
import type { Finding } from '../../types.ts';
import { finish, type RuleCtx } from './context.ts';
import { failedTasksOf, type SparkFacts } from './facts.ts';
import { type Sig, signaturesOf } from './signatures.ts';

/** A text that may carry an error with its context (plan lines follow an AnalysisException). */
interface Doc {
  key: string;
  text: string;
  /** 3: the job's fatal reason or the driver log; 2: other failures; 1: executor logs. */
  rank: number;
}

function docs(f: SparkFacts): Doc[] {
  const out: Doc[] = [];
  for (const s of f.failedStageAttempts)
    out.push({
      key: `stage:${s.stageId}.${s.attemptId}`,
      text: s.failureReason ?? '',
      rank: s === f.focus ? 3 : 2,
    });
  for (const log of f.snap.logs) {
    const text = log.lines
      .filter((l) => !looksLikeInjection(l.text) && !/^\s+at /.test(l.text))
      .map((l) => l.text)
      .join('\n');
    out.push({ key: `log:${log.executorId}:${log.stream}`, text, rank: log.executorId === 'driver' ? 3 : 1 });
  }
  for (const key of f.failedTasksByKey.keys())
    for (const t of failedTasksOf(f.snap, key).slice(0, 8))
      out.push({ key: `failedTasks:${key}`, text: t.errorMessage ?? '', rank: 2 });
  return out.filter((d) => d.text);
}

/** `spark_catalog`.`raw`.`payments` → raw.payments (the catalog prefix is dropped). */
export function normalizeTable(name: string): string {
  const parts = name.replace(/`/g, '').split('.').filter(Boolean);
  return (parts.length >= 3 ? parts.slice(1) : parts).join('.');
}

/** s3a://lake/raw/t/dt=2026-11-19/part-0.parquet → s3a://lake/raw/t (the dataset, not a file/partition). */
export function datasetPath(path: string): string {
  const parts = path.replace(/[.,;:'"]+$/, '').split('/');
  while (parts.length > 3 && /=|\.\w{2,8}$/.test(parts.at(-1) ?? '')) parts.pop();
  return parts.join('/');
}

function relationOf(text: string): string | undefined {
  const suggestion = text.match(/Did you mean one of the following\?\s*\[`?([^`\],\s]+)/)?.[1];
  const relations = [...text.matchAll(/\bRelation ([\w.`]+)\[([^\]]*)\]/g)].map((m) => ({
    name: m[1] ?? '',
    cols: (m[2] ?? '').split(',').map((c) => c.trim().replace(/#.*$/, '')),
  }));
  const hit = suggestion ? relations.find((r) => r.cols.includes(suggestion)) : undefined;
  const named =
    hit?.name ??
    relations[0]?.name ??
    text.match(/SubqueryAlias ([\w.`]+)/)?.[1] ??
    text.match(/UnresolvedRelation \[([^\]]+)\]/)?.[1]?.replace(/,\s*/g, '.');
  if (named) return normalizeTable(named);
  const file = text.match(/in file ((?:[a-z0-9]+:\/)?\/\S+)/i)?.[1];
  return file ? datasetPath(file) : undefined;
}

/** Paths the app listed (file-listing job descriptions): the inputs when the plan names none. */
function listedInput(f: SparkFacts): string | undefined {
  for (const j of f.snap.jobs) {
    const m = (j.description ?? '').match(/paths?:(?:<br\/>|\s)*((?:[a-z0-9]+:\/)?\/[^\s,<]+)/i);
    if (m?.[1]) return datasetPath(m[1]);
  }
  return undefined;
}

function missingOf(text: string): string | undefined {
  const path = text.match(
    /(?:Path does not exist|Input path does not exist|FileNotFoundException):?\s*(?:File\s+)?([a-z0-9]+:\/\/[^\s,;]+|\/[^\s,;]+)/i,
  )?.[1];
  if (path) return path.replace(/[.'"`]+$/, '');
  const table =
    text.match(/Table or view not found:\s*([\w.`]+)/i)?.[1] ??
    text.match(/table or view (`[^`]+`(?:\.`[^`]+`)*|[\w.]+) cannot be found/i)?.[1] ??
    text.match(/Table (?:or view )?'?([\w.`]+)'? not found/i)?.[1];
  return table ? normalizeTable(table) : undefined;
}

function dependencyOf(text: string): string | undefined {
  return (
    text.match(/No module named '([^']+)'/)?.[1] ??
    text.match(/(?:ClassNotFoundException|NoClassDefFoundError):?\s*([\w.$/]+)/)?.[1] ??
    text.match(/NoSuchMethodError:?\s*'?([^'\n]{1,160})/)?.[1] ??
    text.match(/(?:ImportError|ModuleNotFoundError):?\s*([^\n]{1,160})/)?.[1]
  );
}

interface Spec {
  category: Category;
  sigs: Sig[];
  title: string;
  culprit: (text: string, ctx: RuleCtx) => Culprit | undefined;
  summary: (what: string) => string;
}

const SPECS: Spec[] = [
  {
    category: 'spark.schema_mismatch',
    sigs: ['unresolved_column', 'schema_incompatible'],
    title: 'The input no longer has the expected columns/types',
    culprit: (text, ctx) => {
      const id = relationOf(text) ?? listedInput(ctx.f);
      return id ? { kind: 'input', id } : undefined;
    },
    summary: (w) => `The query no longer matches its input's schema (${w}): the upstream contract changed.`,
  },
  {
    category: 'spark.missing_input',
    sigs: ['path_missing', 'table_missing'],
    title: 'An input path or table is absent',
    culprit: (text) => {
      const id = missingOf(text);
      return id ? { kind: 'input', id } : undefined;
    },
    summary: (w) => `An input is missing (${w}): its producer failed or is late.`,
  },
  {
    category: 'spark.dependency_error',
    sigs: ['dependency'],
    title: 'Code or library missing or incompatible',
    culprit: (_t, ctx) => ({ kind: 'app', id: ctx.appId }),
    summary: (w) =>
      `The application's runtime lacks a dependency (${w}): ship or pin it with the application.`,
  },
];

function quote(text: string, want: Set<Sig>): string {
  const line = text.split('\n').find((l) => [...signaturesOf(l)].some((s) => want.has(s)));
  return (line ?? '').trim().slice(0, 240);
}

function specFinding(ctx: RuleCtx, spec: Spec, all: Doc[], bestRank: number): Finding | undefined {
  const want = new Set(spec.sigs);
  const hits = all.filter((d) => [...signaturesOf(d.text)].some((s) => want.has(s)));
  if (!hits.length) return undefined;
  const top = Math.max(...hits.map((h) => h.rank));
  const primary = hits.find((h) => h.rank === top) ?? hits[0];
  if (!primary) return undefined;
  const culprit = spec.culprit(primary.text, ctx);
  const wins = top >= bestRank;
  const q = quote(primary.text, want);
  const what = spec.category === 'spark.dependency_error' ? (dependencyOf(primary.text) ?? q) : q;
  return finish(ctx, {
    category: spec.category,
    title: spec.title,
    likelihood: wins ? (culprit ? 90 : 75) : 40,
    status: wins ? 'confirmed' : 'inconclusive',
    for: hits.map((h) => h.key),
    against: [],
    reasoning: `Signature: "${q}"${culprit ? `; culprit ${culprit.kind} ${culprit.id}` : '; the culprit could not be read from the error'}${wins ? '' : '; a more direct error failed the job'}.`,
    culprit,
    decisive: true,
    summary: spec.summary(what.slice(0, 200)),
    deterministic: true,
  });
}

/** Findings for schema_mismatch, missing_input and dependency_error. */
export function inputFindings(ctx: RuleCtx): Finding[] {
  const all = docs(ctx.f);
  const wanted = new Set(SPECS.flatMap((s) => s.sigs));
  const ranks = all.filter((d) => [...signaturesOf(d.text)].some((s) => wanted.has(s))).map((d) => d.rank);
  if (!ranks.length) return [];
  const best = Math.max(...ranks);
  return SPECS.map((s) => specFinding(ctx, s, all, best)).filter((x): x is Finding => x !== undefined);
}
