import { RepoEntry } from '../../../src/adapters/git/repos.ts';

/** A plausible DAG file for the airflow-execution-timeout scenario (deployed under /opt/airflow/dags/). */
export const WAREHOUSE_DAG = `from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

default_args = {"owner": "data-eng", "retries": 2, "retry_delay": timedelta(minutes=5)}

with DAG(
    dag_id="warehouse_nightly",
    schedule="0 1 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args=default_args,
) as dag:
    build_order_facts = SQLExecuteQueryOperator(
        task_id="build_order_facts",
        conn_id="warehouse",
        sql="sql/build_order_facts.sql",
        execution_timeout=timedelta(hours=2),
        retries=1,
    )
    refresh_bi_extracts = SQLExecuteQueryOperator(
        task_id="refresh_bi_extracts",
        conn_id="warehouse",
        sql="sql/refresh_bi_extracts.sql",
    )
    build_order_facts >> refresh_bi_extracts
`;

export const airflowRepo = (url: string): RepoEntry =>
  RepoEntry.parse({
    repo: 'acme/pipelines',
    url,
    airflow: [{ dagsFolder: '/opt/airflow/dags/', path: 'airflow/dags/', tests: 'airflow/tests/' }],
  });

/** A plausible DAG file for the airflow-vendor-api-connection-reset scenario. */
export const FX_RATES_DAG = `from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python import PythonOperator

from finance.rates import fetch_rates, upsert_rates

with DAG(
    dag_id="fx_rates_sync",
    schedule="30 0 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"owner": "finance-data", "retries": 2},
) as dag:
    fetch = PythonOperator(task_id="fetch_rates", python_callable=fetch_rates)
    upsert = PythonOperator(task_id="upsert_rates", python_callable=upsert_rates)
    fetch >> upsert
`;
