import { describe, expect, it } from 'vitest';
import { ensureImport, findCalls, getKwarg, setKwarg } from '../../../src/adapters/git/pycall.ts';
import { cloneUrl, isAllowedPath, loadRepos, parseRepos } from '../../../src/adapters/git/repos.ts';

const YAML = `
repos:
  - repo: acme/analytics
    defaultBranch: trunk
    dbt:
      - project: shop
        path: analytics
    airflow:
      - dagsFolder: /opt/airflow/dags
        path: dags
    spark:
      - app: orders_enrichment
        conf: /jobs/orders/spark-defaults.conf
`;

describe('repository mapping (HEAL_REPOS_FILE)', () => {
  it('parses the mapping and normalises paths', () => {
    const r = parseRepos(YAML);
    if (!r.ok) throw new Error(r.message);
    const [a] = r.repos;
    expect(a?.defaultBranch).toBe('trunk');
    expect(a?.dbt[0]?.path).toBe('analytics/');
    expect(a?.airflow[0]).toMatchObject({ path: 'dags/', tests: 'tests/' });
    expect(a?.spark[0]?.conf).toBe('jobs/orders/spark-defaults.conf');
  });

  it('names what is wrong in a bad file', () => {
    expect(parseRepos('repos: [{ repo: nope }]')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/repos\.0\.repo: must be owner\/name/),
    });
    expect(parseRepos('repos:\n  - repo: a/b\n    dbt: [{ path: ../x }]')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/inside the repository/),
    });
    expect(parseRepos('repos: [')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/not valid YAML/),
    });
  });

  it('treats an unset file as an empty mapping and a missing one as a message', async () => {
    expect(await loadRepos({ HEAL_REPOS_FILE: undefined })).toEqual({ ok: true, repos: [] });
    expect(await loadRepos({ HEAL_REPOS_FILE: '/nonexistent/heal-repos.yml' })).toMatchObject({ ok: false });
  });

  it('keeps fixes inside the mapped paths', () => {
    expect(isAllowedPath('analytics/models/a.sql', ['analytics/'])).toBe(true);
    expect(isAllowedPath('analytics/../secrets.env', ['analytics/'])).toBe(false);
    expect(isAllowedPath('analyticsX/a.sql', ['analytics/'])).toBe(false);
    expect(isAllowedPath('jobs/a.conf', ['jobs/a.conf'])).toBe(true);
    expect(isAllowedPath('jobs/a.conf.bak', ['jobs/a.conf'])).toBe(false);
  });

  it('derives clone URLs for github.com and GitHub Enterprise', () => {
    const r = parseRepos('repos: [{ repo: acme/analytics }]');
    if (!r.ok || !r.repos[0]) throw new Error('parse');
    expect(cloneUrl(r.repos[0], 'https://api.github.com')).toBe('https://github.com/acme/analytics.git');
    expect(cloneUrl(r.repos[0], 'https://ghe.acme.io/api/v3')).toBe('https://ghe.acme.io/acme/analytics.git');
  });
});

describe('python keyword-argument edits', () => {
  const src = `op = Op(\n    task_id="t1",\n    sql=f"select ({x})",  # comment, with comma\n    retries=1,\n)\nother = Op(task_id="t2")\n`;

  it('finds the call by task_id and replaces or adds a keyword', () => {
    const [call] = findCalls(src, 'task_id', 't1');
    if (!call) throw new Error('not found');
    expect(getKwarg(src, call, 'retries')).toBe('1');
    const replaced = setKwarg(src, call, 'retries', '3');
    expect(replaced).toContain('    retries=3,\n)');
    const [c2] = findCalls(replaced, 'task_id', 't1');
    const added = setKwarg(replaced, c2 ?? call, 'execution_timeout', 'timedelta(hours=3)');
    expect(added).toContain('    retries=3,\n    execution_timeout=timedelta(hours=3),\n)');
    const [one] = findCalls(src, 'task_id', 't2');
    expect(setKwarg(src, one ?? call, 'retries', '3')).toContain('Op(task_id="t2", retries=3)');
  });

  it('adds an import once, after a parenthesised import block', () => {
    const text = 'from a import (\n    b,\n    c,\n)\n\nx = 1\n';
    const next = ensureImport(text, 'datetime', 'timedelta');
    expect(next).toBe('from a import (\n    b,\n    c,\n)\nfrom datetime import timedelta\n\nx = 1\n');
    expect(ensureImport(next, 'datetime', 'timedelta')).toBe(next);
  });
});
