import type { Platform } from '../core/target.ts';
import { airflowAdapter } from './airflow/index.ts';
import { dbtAdapter } from './dbt/index.ts';
import { sparkAdapter } from './spark/index.ts';
import type { PipelineAdapter } from './types.ts';

/** The one registry of pipeline adapters (like renovate's platform api map). */
export const adapters: ReadonlyMap<Platform, PipelineAdapter> = new Map<Platform, PipelineAdapter>([
  ['spark', sparkAdapter as PipelineAdapter],
  ['airflow', airflowAdapter as PipelineAdapter],
  ['dbt', dbtAdapter as PipelineAdapter],
]);

export function getAdapter(platform: Platform): PipelineAdapter | undefined {
  return adapters.get(platform);
}
