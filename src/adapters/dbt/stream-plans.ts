import { ManifestNode, RunResult, SourceFreshness } from './schema.ts';
import type { StreamPlan } from './stream-artifact.ts';

/** The fields of an element Heal reads: the schema's own keys (plus owner hints kept for the thread). */
const fieldsOf = (shape: Record<string, unknown>, extra: string[] = []) => [...Object.keys(shape), ...extra];

const CODE = ['compiled_code', 'compiled_sql', 'raw_code', 'message', 'error'];

/** How each local artifact is cut when it is too big to parse whole (src/adapters/dbt/stream-artifact.ts). */
export const PLANS = {
  runResults: {
    keep: ['metadata', 'elapsed_time', 'args'],
    collections: { results: fieldsOf(RunResult.shape, ['timing', 'thread_id']) },
    clip: CODE,
  },
  manifest: {
    keep: ['metadata', 'child_map', 'parent_map'],
    collections: {
      nodes: fieldsOf(ManifestNode.shape, ['meta', 'tags', 'group', 'description']),
      sources: fieldsOf(ManifestNode.shape, ['meta', 'tags', 'description']),
      macros: ['name', 'package_name', 'unique_id'],
    },
    clip: CODE,
  },
  sources: {
    keep: ['metadata', 'elapsed_time'],
    collections: { results: fieldsOf(SourceFreshness.shape) },
    clip: CODE,
  },
} as const satisfies Record<string, StreamPlan>;
