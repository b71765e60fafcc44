import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection } from '../../src/adapters/types.ts';
import type { Report } from '../../src/core/report.ts';
import { changedLines, proposeFix } from '../../src/diagnosis/fix.ts';
import { airflowRepo, WAREHOUSE_DAG } from '../adapters/git/fixtures.ts';
import {
  type SeededRepo,
  scenarioDir,
  scenarioReport,
  seedBareRepo,
  testCtx,
} from '../adapters/git/helpers.ts';
import { type FakeAnthropic, startFakeAnthropic } from '../support/fakeAnthropic.ts';

/** The DAG with the task under another id: the template cannot find it, so Claude is asked. */
const DAG = WAREHOUSE_DAG.replace('task_id="build_order_facts"', 'task_id=FACTS_TASK').replace(
  'with DAG(',
  'FACTS_TASK = "build_order_facts"\n\nwith DAG(',
);
const DAG_PATH = 'airflow/dags/warehouse/warehouse_nightly.py';

const fixDiff = (path = DAG_PATH, from = 'hours=2') => `diff --git a/${path} b/${path}
--- a/${path}
+++ b/${path}
@@ -20,3 +20,3 @@
         sql="sql/build_order_facts.sql",
-        execution_timeout=timedelta(${from}),
+        execution_timeout=timedelta(hours=3),
         retries=1,
`;

const testDiff = `diff --git a/airflow/tests/test_heal_timeout.py b/airflow/tests/test_heal_timeout.py
new file mode 100644
--- /dev/null
+++ b/airflow/tests/test_heal_timeout.py
@@ -0,0 +1,2 @@
+def test_timeout():
+    assert True
`;

const answer = (over: Record<string, unknown> = {}) => ({
  answer: {
    applicable: true,
    title: 'Raise the timeout of build_order_facts',
    explain: 'Its runs grew past 2 h.',
    diff: fixDiff(),
    preventionDiff: testDiff,
    preventionWhy: 'The pinned timeout was 2 h.',
    words: '',
    ...over,
  },
});

let claude: FakeAnthropic;
let repo: SeededRepo;
let report: Report;
let collection: Collection;
beforeAll(async () => {
  claude = await startFakeAnthropic();
  repo = seedBareRepo({ [DAG_PATH]: DAG, 'secrets/prod.env': 'X=1\n' });
  ({ report, collection } = await scenarioReport(scenarioDir('airflow-execution-timeout')));
});
afterAll(async () => {
  repo.dispose();
  await claude.close();
});

const ctx = () => testCtx({ ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: claude.baseURL });
const propose = (c = ctx()) => proposeFix(report, collection, c, { repos: [airflowRepo(repo.url)] });

describe('Claude-proposed fixes, validated strictly', () => {
  it('without a key and without a template: says what to change in words, no fix', async () => {
    const out = await propose(testCtx());
    expect(out.fix).toBeNull();
    expect(out.words).toMatch(/No call with task_id="build_order_facts"/);
    expect(out.words).toMatch(/raise the timeout/i);
  });

  it('accepts a small diff on the mapped DAG file that applies to the base commit', async () => {
    claude.enqueue(answer());
    const out = await propose();
    expect(out.proposal?.source, out.words).toBe('claude');
    expect(out.fix?.files).toEqual([DAG_PATH]);
    expect(out.prevention?.files).toEqual(['airflow/tests/test_heal_timeout.py']);
    expect(out.proposal?.baseSha).toBe(repo.sha);
    const sent = JSON.stringify(claude.requests.at(-1)?.body);
    expect(sent).toContain('FACTS_TASK');
    expect(sent).toContain('<untrusted');
  });

  it('rejects a diff that touches an unmapped path', async () => {
    claude.enqueue(
      answer({
        diff: fixDiff().concat(`diff --git a/secrets/prod.env b/secrets/prod.env
--- a/secrets/prod.env
+++ b/secrets/prod.env
@@ -1 +1 @@
-X=1
+X=2
`),
      }),
    );
    const out = await propose();
    expect(out.fix).toBeNull();
    expect(out.words).toMatch(/rejected: the diff touches unmapped paths: secrets\/prod\.env/);
  });

  it('rejects a diff that does not apply to the base commit', async () => {
    claude.enqueue(answer({ diff: fixDiff(DAG_PATH, 'hours=4') }));
    const out = await propose();
    expect(out.fix).toBeNull();
    expect(out.words).toMatch(/does not apply to the base commit/);
  });

  it('rejects a diff that is too large', async () => {
    const big = Array.from({ length: 200 }, (_, i) => `+# line ${i}`).join('\n');
    claude.enqueue(
      answer({
        diff: `${fixDiff().trimEnd()}\n${big}\n`.replace('@@ -20,3 +20,3 @@', '@@ -20,3 +20,203 @@'),
      }),
    );
    const out = await propose();
    expect(out.fix).toBeNull();
    expect(out.words).toMatch(/changes \d+ lines \(limit 120\)/);
  });

  it('passes on Claude declining and on an API error as words', async () => {
    claude.enqueue(answer({ applicable: false, diff: '', words: 'Partition the query by day.' }));
    expect((await propose()).words).toMatch(/Partition the query by day\./);
    claude.enqueue({ status: 400, errorType: 'invalid_request_error', message: 'bad request' });
    const out = await propose();
    expect(out.fix).toBeNull();
    expect(out.words).toMatch(/Claude could not propose a fix: HTTP 400/);
  });

  it('counts changed lines without the file headers', () => {
    expect(changedLines(fixDiff())).toBe(2);
  });
});
