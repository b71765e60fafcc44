/**
 * Where the code of a pipeline lives: the HEAL_REPOS_FILE mapping (YAML) from dbt projects, Airflow DAG
 * folders and Spark applications to a git repository and paths inside it.
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';

/** A repo-relative directory: no leading slash, no `..`, ends with `/` (or empty for the root). */
const repoDir = z
  .string()
  .transform((p) => normalizeDir(p))
  .refine((p) => !p.split('/').includes('..'), 'must stay inside the repository');
const repoFile = z
  .string()
  .min(1)
  .transform((p) => posix.normalize(p.replace(/^\/+/, '')))
  .refine((p) => !p.startsWith('..') && p !== '.', 'must be a file inside the repository');

export const DbtMapping = z.object({
  /** dbt `project_name` (from the artifacts' metadata); absent: any project. */
  project: z.string().min(1).optional(),
  /** The dbt project directory in the repository (where dbt_project.yml is). */
  path: repoDir.default(''),
});

export const AirflowMapping = z.object({
  /** The deployed DAGs folder, the prefix of the DAG's `fileloc` (e.g. /opt/airflow/dags/). */
  dagsFolder: z.string().min(1),
  /** The same folder in the repository. */
  path: repoDir.default(''),
  /** Only these DAG ids (absent: every DAG under the folder). */
  dags: z.array(z.string().min(1)).optional(),
  /** Where Heal adds DAG checks (pytest), kept out of the DAGs folder the scheduler parses. */
  tests: repoDir.default('tests/'),
});

export const SparkMapping = z
  .object({
    /** `spark.app.name` of the job. */
    app: z.string().min(1).optional(),
    /** A tag in `spark.yarn.tags` or a value of a `spark.kubernetes.driver.label.*` property. */
    tag: z.string().min(1).optional(),
    /** The job's conf file (spark-defaults style `key value` / `key=value`, or `--conf k=v` lines). */
    conf: repoFile,
    /** Further directories the fix may touch (the job's code). */
    paths: z.array(repoDir).default([]),
  })
  .refine((m) => m.app || m.tag, 'needs `app` or `tag`');

export const RepoEntry = z.object({
  /** `owner/name` on GitHub: where pull requests are opened. */
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name'),
  /** Clone URL; default derived from GITHUB_API_URL (https://github.com/<repo>.git). */
  url: z.string().min(1).optional(),
  defaultBranch: z.string().min(1).default('main'),
  dbt: z.array(DbtMapping).default([]),
  airflow: z.array(AirflowMapping).default([]),
  spark: z.array(SparkMapping).default([]),
});
export type RepoEntry = z.infer<typeof RepoEntry>;

export const ReposFile = z.object({ repos: z.array(RepoEntry).default([]) });
export type ReposFile = z.infer<typeof ReposFile>;

/** A file or directory set in one repository that holds the failing code. */
export interface CodeLocation {
  repo: RepoEntry;
  /** The files the failure points at (repo-relative). */
  files: string[];
  /** Path prefixes a fix may touch (repo-relative; a file or a `dir/`). */
  allowed: string[];
  /** How the mapping was made, in words ("dbt original_file_path …"). */
  basis: string;
}

export type Located = { ok: true; location: CodeLocation } | { ok: false; reason: string };

export function normalizeDir(p: string): string {
  const n = posix.normalize(p.replace(/^\/+/, '').trim() || '.');
  return n === '.' ? '' : n.endsWith('/') ? n : `${n}/`;
}

/** Is `path` (repo-relative) inside one of the `allowed` prefixes? */
export function isAllowedPath(path: string, allowed: string[]): boolean {
  const p = posix.normalize(path);
  if (p.startsWith('..') || p.startsWith('/')) return false;
  return allowed.some((a) => (a.endsWith('/') || a === '' ? p.startsWith(a) : p === a));
}

export type ReposLoad = { ok: true; repos: RepoEntry[] } | { ok: false; message: string };

/** Parses a mapping document (YAML text); the message names the problem and the file. */
export function parseRepos(text: string, source = 'HEAL_REPOS_FILE'): ReposLoad {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    return { ok: false, message: `${source} is not valid YAML: ${errorMessage(err)}` };
  }
  const parsed = ReposFile.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, repos: parsed.data.repos };
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return { ok: false, message: `${source} is invalid: ${problems.join('; ')}` };
}

/** Reads HEAL_REPOS_FILE; no file configured is an empty mapping, a bad file a message. */
export async function loadRepos(config: Pick<Config, 'HEAL_REPOS_FILE'>): Promise<ReposLoad> {
  const file = config.HEAL_REPOS_FILE;
  if (!file) return { ok: true, repos: [] };
  try {
    return parseRepos(await readFile(file, 'utf8'), file);
  } catch (err) {
    return { ok: false, message: `HEAL_REPOS_FILE ${file} could not be read: ${errorMessage(err)}` };
  }
}

/** The clone URL of a repository: its `url`, else the GitHub web host of GITHUB_API_URL. */
export function cloneUrl(entry: RepoEntry, apiUrl: string): string {
  if (entry.url) return entry.url;
  const api = new URL(apiUrl);
  const host = api.hostname === 'api.github.com' ? 'github.com' : api.host;
  return `${api.protocol}//${host}/${entry.repo}.git`;
}
