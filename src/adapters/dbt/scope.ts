import type { FreshnessResult, Manifest, ManifestNode, NodeRun, ScopedNode } from './schema.ts';

/** Most nodes kept in scope (failing first, then inputs, then downstream). */
const MAX_SCOPE = 40;
const MAX_SQL = 16 * 1024;

/** Result statuses that make a node "failing": errors, failed tests, warnings (kept, weighed later). */
export const FAILING_STATUS = /^(?:error|fail|runtime error|warn)$/i;

/** Children of each node: the manifest's child_map, else derived from depends_on. */
export function childMap(m: Manifest): Record<string, string[]> {
  if (m.child_map && Object.keys(m.child_map).length) return m.child_map;
  const out: Record<string, string[]> = {};
  for (const n of Object.values(m.nodes)) {
    if (!n) continue;
    for (const p of n.depends_on.nodes) {
      const list = out[p] ?? [];
      list.push(n.unique_id);
      out[p] = list;
    }
  }
  return out;
}

/** A manifest node or source by unique id. */
export function lookup(m: Manifest | undefined, id: string): ManifestNode | undefined {
  return m?.nodes[id] ?? m?.sources[id] ?? undefined;
}

/**
 * The ids a careful engineer would look at: the failing nodes (errors, failed/warned tests, stale
 * sources, models that wrote suspiciously little), their direct inputs, and one level downstream.
 */
export function scopeIds(
  m: Manifest | undefined,
  results: NodeRun[],
  freshness: FreshnessResult[],
  silent: string[],
): Map<string, ScopedNode['role']> {
  const roles = new Map<string, ScopedNode['role']>();
  const failing = [
    ...results.filter((r) => FAILING_STATUS.test(r.status)).map((r) => r.uniqueId),
    ...freshness.filter((f) => f.status !== 'pass').map((f) => f.uniqueId),
    ...silent,
  ];
  for (const id of failing) roles.set(id, 'failing');
  if (!m) return roles;
  const children = childMap(m);
  for (const id of failing)
    for (const p of lookup(m, id)?.depends_on.nodes ?? []) if (!roles.has(p)) roles.set(p, 'input');
  for (const id of failing) for (const c of children[id] ?? []) if (!roles.has(c)) roles.set(c, 'downstream');
  const order: ScopedNode['role'][] = ['failing', 'input', 'downstream'];
  const kept = [...roles].sort((a, b) => order.indexOf(a[1]) - order.indexOf(b[1])).slice(0, MAX_SCOPE);
  return new Map(kept);
}

const strKwargs = (kw: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(kw)
      .filter(([k]) => k !== 'model')
      .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])
      .map(([k, v]) => [k, String(v).slice(0, 300)]),
  );

/** Compacts a manifest node for the snapshot. */
export function scopedNode(
  n: ManifestNode,
  role: ScopedNode['role'],
  children: string[],
  compiled?: { sql: string; path: string },
): ScopedNode {
  const sql = compiled?.sql ?? n.compiled_code ?? n.compiled_sql ?? undefined;
  const column = n.column_name ?? (n.test_metadata?.kwargs.column_name as string | undefined);
  return {
    uniqueId: n.unique_id,
    resourceType: n.resource_type,
    name: n.name,
    role,
    dependsOn: n.depends_on.nodes,
    children: children.slice(0, 30),
    ...(n.relation_name ? { relationName: n.relation_name } : {}),
    ...(n.config.materialized ? { materialized: n.config.materialized } : {}),
    ...(n.config.severity ? { severity: n.config.severity } : {}),
    columns: Object.values(n.columns)
      .slice(0, 200)
      .map((c) => ({ name: c.name, ...(c.data_type ? { type: c.data_type } : {}) })),
    ...(n.test_metadata
      ? {
          test: {
            name: n.test_metadata.name,
            ...(typeof column === 'string' ? { column } : {}),
            kwargs: strKwargs(n.test_metadata.kwargs),
          },
        }
      : {}),
    ...(n.attached_node ? { attachedNode: n.attached_node } : {}),
    ...(sql ? { compiledSql: sql.slice(0, MAX_SQL) } : {}),
    ...(compiled?.path ? { compiledRef: compiled.path } : {}),
    ...(n.original_file_path ? { originalFile: n.original_file_path } : {}),
    ...(n.loader ? { loader: n.loader } : {}),
    ...(n.loaded_at_field ? { loadedAtField: n.loaded_at_field } : {}),
  };
}
