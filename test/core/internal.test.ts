import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.ts';
import { internalBases, scrubInternal } from '../../src/core/internal.ts';

const config = loadConfig({
  SPARK_HISTORY_URL: 'http://history.internal.corp:18080',
  AIRFLOW_BASE_URL: 'http://10.2.0.7:8080/airflow',
  HEAL_WAREHOUSE_URL: 'postgres://ro@warehouse.internal:5432/analytics',
});
const bases = internalBases(config);

describe('Slack error text names platforms, not internal addresses or paths', () => {
  it('replaces configured base URLs and hosts with the platform', () => {
    expect(
      scrubInternal('Airflow at http://10.2.0.7:8080/airflow unreachable: connection refused', bases),
    ).toBe('Airflow at the Airflow API unreachable: connection refused');
    expect(
      scrubInternal(
        'Spark History Server: GET http://history.internal.corp:18080/api/v1/applications/x/jobs failed: HTTP 500',
        bases,
      ),
    ).toBe('Spark History Server: GET the Spark History Server/api/v1/applications/x/jobs failed: HTTP 500');
    expect(scrubInternal('could not connect to warehouse.internal:5432', bases)).toBe(
      'could not connect to the warehouse',
    );
  });

  it('cuts absolute local paths to their last part, keeping API paths', () => {
    expect(scrubInternal('/srv/heal/projects/shop/target/run_results.json could not be read', bases)).toBe(
      '…/run_results.json could not be read',
    );
    expect(scrubInternal('GET /api/v1/applications/app-1/stages failed', bases)).toBe(
      'GET /api/v1/applications/app-1/stages failed',
    );
    expect(scrubInternal('ratio 3/4 and a/b/c stay', bases)).toBe('ratio 3/4 and a/b/c stay');
  });
});
