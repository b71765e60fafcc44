/**
 * Builds the cross-platform drill-down scenarios under test/variants/ (deterministic; run with
 * `node bin/run-ts.js scripts/make-drilldown.ts`):
 * - airflow-x-spark-skew: an Airflow task ran spark-submit; the Spark app failed on a skewed join. The fix
 *   belongs in the Spark job (stage 3), not in the Airflow task.
 * - airflow-x-dbt-missing-column: an Airflow task ran `dbt run`; a model referenced a renamed column. The
 *   fix belongs in the dbt model.
 * Each combines an Airflow scenario's routes with the Spark History Server routes (served by the same
 * fixture server) or the dbt target/ files, and rewrites the failing task's logs accordingly.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const SCEN = join(ROOT, 'test', 'scenarios');
const OUT = join(ROOT, 'test', 'variants');
const AIRFLOW = 'airflow-sigkill-oom';
const TASK = 'build_features';
const LOG_DIR = 'http/customer_360_features';

type Json = Record<string, unknown> & { routes: Array<Record<string, unknown>> };
const load = (dir: string): Json => JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8'));

function header(tryNo: number): string {
  const src = readFileSync(
    join(SCEN, AIRFLOW, LOG_DIR, `scheduled__2026-11-19T03_30_00_00_00.${TASK}.${tryNo}.log`),
    'utf8',
  );
  const cut = src.indexOf('{features.py');
  return src.slice(0, src.lastIndexOf('\n', cut) + 1).replaceAll('PythonOperator', 'BashOperator');
}

function rewriteLogs(dir: string, body: (tryNo: number) => string): void {
  for (const tryNo of [1, 2]) {
    const file = join(dir, LOG_DIR, `scheduled__2026-11-19T03_30_00_00_00.${TASK}.${tryNo}.log`);
    writeFileSync(file, header(tryNo) + body(tryNo));
  }
}

function fresh(name: string): string {
  const dir = join(OUT, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(SCEN, AIRFLOW), dir, { recursive: true });
  return dir;
}

function sparkDrilldown(): void {
  const name = 'airflow-x-spark-skew';
  const dir = fresh(name);
  const spark = 'spark-skew-hot-customer-oom';
  const sparkScenario = load(join(SCEN, spark));
  cpSync(join(SCEN, spark, 'http'), join(dir, 'http', 'spark'), { recursive: true });
  const app = 'app-20261120021500-0042';
  rewriteLogs(dir, (t) =>
    [
      `[2026-11-20, 03:49:45 UTC] {subprocess.py:75} INFO - Running command: ['/usr/bin/bash', '-c', 'spark-submit --master spark://spark-master:7077 --deploy-mode client jobs/orders_enrichment.py']`,
      `[2026-11-20, 03:49:52 UTC] {subprocess.py:93} INFO - 26/11/20 02:15:00 INFO StandaloneSchedulerBackend: Connected to Spark cluster with app ID ${app}`,
      `[2026-11-20, 03:58:31 UTC] {subprocess.py:93} INFO - py4j.protocol.Py4JJavaError: An error occurred while calling o112.save. : org.apache.spark.SparkException: Job aborted due to stage failure: Task 37 in stage 3.0 failed 4 times`,
      '[2026-11-20, 03:58:33 UTC] {subprocess.py:97} INFO - Command exited with return code 1',
      `[2026-11-20, 03:58:33 UTC] {taskinstance.py:3311} ERROR - Task failed with exception`,
      'Traceback (most recent call last):',
      '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/operators/bash.py", line 249, in execute',
      '    raise AirflowException(',
      'airflow.exceptions.AirflowException: Bash command failed. The command returned a non-zero exit code 1.',
      `[2026-11-20, 03:58:33 UTC] {taskinstance.py:1225} INFO - Marking task as ${t === 2 ? 'FAILED' : 'UP_FOR_RETRY'}. dag_id=customer_360_features, task_id=${TASK}`,
      '',
    ].join('\n'),
  );
  const s = load(dir);
  s.name = name;
  s.description = `An Airflow task (${TASK}) runs spark-submit for orders_enrichment and fails with exit code 1 on both tries. The Spark application it launched (${app}, named in the task log) failed on a skewed sort-merge join (one hot partition, OutOfMemoryError). Heal must follow the application into the Spark History Server: the fix belongs in the Spark job (stage 3), not in the Airflow task.`;
  s.tags = ['airflow-v1', 'drilldown', 'spark', 'red-herring'];
  s.env = { ...(s.env as object), SPARK_HISTORY_URL: '{base}' };
  s.routes = [
    ...s.routes,
    ...sparkScenario.routes.map((r) => ({ ...r, file: String(r.file).replace(/^http\//, 'http/spark/') })),
  ];
  // The History Server is another server in real life: Airflow's basic auth does not cover its paths.
  const auth = s.auth as { paths: string[] } | undefined;
  if (auth)
    auth.paths = ['/api/v1/dags', '/api/v1/importErrors', '/api/v1/dagSources', '/api/v1/connections'];
  s.expect = {
    category: 'spark.data_skew',
    culprit: { kind: 'stage', id: '3' },
    alternatives: ['airflow.oom_killed', 'spark.executor_oom', 'airflow.task_timeout'],
  };
  writeFileSync(join(dir, 'scenario.json'), `${JSON.stringify(s, null, 2)}\n`);
}

function dbtDrilldown(): void {
  const name = 'airflow-x-dbt-missing-column';
  const dir = fresh(name);
  const dbt = 'dbt-missing-column-fct-orders';
  cpSync(join(SCEN, dbt, 'files'), join(dir, 'files'), { recursive: true });
  const dbtLog = readFileSync(join(SCEN, dbt, 'files', 'logs', 'dbt.log'), 'utf8')
    .split('\n')
    .filter((l) => /Database Error|column|ERROR|Completed with|Done\./.test(l))
    .slice(0, 8);
  rewriteLogs(dir, (t) =>
    [
      `[2026-11-20, 03:49:45 UTC] {subprocess.py:75} INFO - Running command: ['/usr/bin/bash', '-c', 'cd /opt/dbt/shop && dbt run --target prod']`,
      ...dbtLog.map((l) => `[2026-11-20, 03:51:02 UTC] {subprocess.py:93} INFO - ${l}`),
      '[2026-11-20, 03:51:03 UTC] {subprocess.py:93} INFO - Artifacts written to {files}/target/run_results.json',
      '[2026-11-20, 03:51:03 UTC] {subprocess.py:97} INFO - Command exited with return code 1',
      '[2026-11-20, 03:51:03 UTC] {taskinstance.py:3311} ERROR - Task failed with exception',
      'airflow.exceptions.AirflowException: Bash command failed. The command returned a non-zero exit code 1.',
      `[2026-11-20, 03:51:03 UTC] {taskinstance.py:1225} INFO - Marking task as ${t === 2 ? 'FAILED' : 'UP_FOR_RETRY'}. dag_id=customer_360_features, task_id=${TASK}`,
      '',
    ].join('\n'),
  );
  const s = load(dir);
  s.name = name;
  s.description = `An Airflow task (${TASK}) runs \`dbt run\` and fails with exit code 1. The dbt run's artifacts (target/ named in the task log) show fct_orders failing on a column that does not exist. Heal must follow into the dbt artifacts: the fix belongs in the dbt model, not the Airflow task.`;
  s.tags = ['airflow-v1', 'drilldown', 'dbt'];
  s.env = { ...(s.env as object), HEAL_DBT_ROOTS: '{files}' };
  s.expect = {
    category: 'dbt.missing_column',
    culprit: { kind: 'model', id: 'model.shop.fct_orders', aliases: ['fct_orders'] },
    alternatives: ['airflow.oom_killed', 'dbt.compilation_error'],
  };
  writeFileSync(join(dir, 'scenario.json'), `${JSON.stringify(s, null, 2)}\n`);
}

if (!existsSync(OUT)) mkdirSync(OUT, { recursive: true });
sparkDrilldown();
dbtDrilldown();
console.log(
  readdirSync(OUT)
    .filter((d) => d.startsWith('airflow-x-'))
    .join('\n'),
);
