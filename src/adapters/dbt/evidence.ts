import { looksLikeInjection } from '../../core/injection.ts';
import { truncate } from '../../core/redact.ts';
import type { Evidence } from '../../core/report.ts';
import { type EvidenceDraft, gapDrafts, numberEvidence } from '../evidence.ts';
import { volumeFacts } from './rules/facts.ts';
import type { DbtSnapshot, NodeRun, ScopedNode, TableProfile } from './schema.ts';

type Draft = EvidenceDraft;
const MAX_NODES = 12;

const shortName = (id: string) => id.split('.').slice(2).join('.') || id;

function runDraft(s: DbtSnapshot): Draft {
  const counts: Record<string, number> = {};
  for (const r of s.results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  const vars = Object.entries(s.vars).map(([k, v]) => `${k}=${v}`);
  const lines = [
    `invocation ${s.invocationId ?? '?'} · dbt ${s.dbtVersion ?? '?'} · adapter ${s.adapterType ?? '?'}${s.projectName ? ` · project ${s.projectName}` : ''}`,
    `started ${s.startedAt ?? '?'} · generated ${s.generatedAt ?? '?'}${s.command ? ` · command ${s.command}` : ''}`,
    `results: ${
      Object.entries(counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || 'none'
    }`,
    ...(vars.length ? [`--vars ${vars.join(', ')}`] : []),
    ...(s.cloud
      ? [
          `dbt Cloud run ${s.cloud.runId} (job ${s.cloud.jobId ?? '?'}) ${s.cloud.status ?? ''} · git ${s.cloud.gitSha ?? 'unpinned'}${s.cloud.gitBranch ? ` on ${s.cloud.gitBranch}` : ''}`,
          ...(s.cloud.artifactSteps ?? []).map(
            (a) => `${a.file} from step ${a.index} (${a.name}${a.status ? `, ${a.status}` : ''})`,
          ),
        ]
      : []),
  ];
  return {
    key: 'run',
    source: 'dbt.run_results',
    title: `dbt invocation ${s.invocationId ?? s.ref}`,
    excerpt: lines.join('\n'),
    ref: s.ref,
  };
}

function resultDraft(s: DbtSnapshot, r: NodeRun): Draft {
  const n = s.nodes[r.uniqueId];
  const lines = [
    `${r.status}${r.failures != null ? ` · failures ${r.failures}` : ''}${r.adapterMessage ? ` · ${r.adapterMessage}` : ''}${n?.materialized ? ` · materialized ${n.materialized}` : ''}${n?.severity ? ` · severity ${n.severity}` : ''}`,
    ...(n?.test
      ? [
          `${n.test.name} test on ${shortName(n.attachedNode ?? n.dependsOn[0] ?? '?')}${n.test.column ? `.${n.test.column}` : ''}`,
        ]
      : []),
    ...(r.message ? [r.message] : []),
  ];
  return {
    key: `result:${r.uniqueId}`,
    source: 'dbt.node_result',
    title: `${r.uniqueId} ${r.status}`,
    excerpt: lines.join('\n'),
    ref: `${s.ref}#results/${r.uniqueId}`,
  };
}

function nodeDraft(s: DbtSnapshot, n: ScopedNode): Draft {
  const cols = n.columns.map((c) => (c.type ? `${c.name} ${c.type}` : c.name));
  const lines = [
    `${n.resourceType} (${n.role})${n.relationName ? ` → ${n.relationName}` : ''}${n.materialized ? ` · ${n.materialized}` : ''}${n.loader ? ` · loader ${n.loader}` : ''}`,
    `depends on: ${n.dependsOn.map(shortName).join(', ') || 'nothing'}`,
    `feeds: ${n.children.map(shortName).join(', ') || 'nothing'}`,
    `documented columns: ${cols.join(', ') || 'none documented'}`,
  ];
  return {
    key: `node:${n.uniqueId}`,
    source: 'dbt.manifest',
    title: `${n.uniqueId} in the manifest`,
    excerpt: lines.join('\n'),
    ref: `${s.ref}/manifest.json#nodes/${n.uniqueId}`,
  };
}

/** The lines of compiled SQL that matter: around `LINE n` of the error, filters, or the whole when short. */
function sqlDraft(s: DbtSnapshot, n: ScopedNode): Draft | undefined {
  if (!n.compiledSql) return undefined;
  const lines = n.compiledSql.split('\n');
  const msg = s.results.find((r) => r.uniqueId === n.uniqueId)?.message ?? '';
  const at = Number(msg.match(/LINE (\d+)/)?.[1] ?? 0);
  const keep = new Set<number>();
  if (at) for (let i = Math.max(1, at - 4); i <= Math.min(lines.length, at + 2); i++) keep.add(i);
  lines.forEach((l, i) => {
    if (/\bwhere\b|\bhaving\b|\blimit\b|\bjoin\b|\bfrom\b/i.test(l)) keep.add(i + 1);
  });
  const chosen =
    lines.length <= 40 ? lines.map((_, i) => i + 1) : [...keep].sort((a, b) => a - b).slice(0, 40);
  return {
    key: `sql:${n.uniqueId}`,
    source: 'dbt.compiled_sql',
    title: `Compiled SQL of ${shortName(n.uniqueId)}`,
    excerpt: chosen.map((i) => `L${i}: ${truncate(lines[i - 1] ?? '', 240)}`).join('\n'),
    ref: n.compiledRef ?? `${s.ref}/compiled/${n.originalFile ?? n.name}`,
  };
}

function freshnessDrafts(s: DbtSnapshot): Draft[] {
  if (!s.freshness.length) return [];
  const bad = s.freshness.filter((f) => f.status !== 'pass');
  const drafts: Draft[] = bad.map((f) => ({
    key: `fresh:${f.uniqueId}`,
    source: 'dbt.sources',
    title: `Source freshness ${f.status}: ${shortName(f.uniqueId)}`,
    excerpt: [
      `status ${f.status} · newest row loaded ${f.maxLoadedAt ?? '?'} · snapshotted ${f.snapshottedAt ?? '?'}${f.ageSeconds !== undefined ? ` · ${(f.ageSeconds / 3600).toFixed(1)} h old` : ''}`,
      `warn after ${f.warnAfter ?? '-'} · error after ${f.errorAfter ?? '-'}`,
      ...(f.error ? [f.error] : []),
    ].join('\n'),
    ref: `${s.ref}/sources.json#${f.uniqueId}`,
  }));
  const passed = s.freshness.filter((f) => f.status === 'pass');
  if (passed.length)
    drafts.push({
      key: 'fresh:pass',
      source: 'dbt.sources',
      title: `${passed.length} source(s) fresh`,
      excerpt: passed
        .map((f) => `${shortName(f.uniqueId)} pass (${f.maxLoadedAt ?? '?'})`)
        .slice(0, 15)
        .join('\n'),
      ref: `${s.ref}/sources.json`,
    });
  return drafts;
}

function volumeDrafts(s: DbtSnapshot): Draft[] {
  return volumeFacts(s)
    .slice(0, 8)
    .map((v) => ({
      key: `volume:${v.id}`,
      source: 'dbt.volume',
      title: `${shortName(v.id)} wrote ${v.rows} row(s)`,
      excerpt: [
        `this run: ${v.rows} rows${v.median !== undefined ? ` · median of ${v.history.length} previous run(s): ${Math.round(v.median)}` : ' · no history'}`,
        ...(v.history.length ? [`previous: ${v.history.join(', ')}`] : []),
        `inputs this run: ${v.inputs.map((i) => `${shortName(i.id)} ${i.rows === undefined ? 'n/a' : `${i.rows} rows`}`).join(', ') || 'none known'}`,
      ].join('\n'),
      ref: `${s.ref}#results/${v.id}`,
    }));
}

function profileDraft(p: TableProfile): Draft {
  const lines = [
    `${p.relation}: ${p.rowCount !== undefined ? `${p.rowCount} rows` : 'row count unknown'}`,
    ...(p.columns
      ? [
          `columns: ${p.columns
            .map((c) => `${c.name} ${c.type}`)
            .join(', ')
            .slice(0, 800)}`,
        ]
      : []),
    ...(p.stats ?? []).map(
      (st) => `${st.column}: ${st.nulls} null(s), min ${st.min ?? 'null'}, max ${st.max ?? 'null'}`,
    ),
    ...(p.failingRows
      ? [
          `failing rows (${p.failingRows.length} shown):`,
          ...p.failingRows.slice(0, 10).map((r) => JSON.stringify(r)),
        ]
      : []),
    ...(p.sample?.length
      ? [
          `sample (${p.sample.length} rows): ${p.sample
            .slice(0, 3)
            .map((r) => JSON.stringify(r))
            .join(' ')}`,
        ]
      : []),
    ...p.gaps,
  ];
  return {
    key: `wh:${p.nodeId}`,
    source: 'dbt.warehouse',
    title: `Warehouse profile of ${p.relation}`,
    excerpt: lines.join('\n'),
    ref: `warehouse:${p.relation}`,
  };
}

function logDrafts(s: DbtSnapshot): Draft[] {
  const out: Draft[] = [];
  const fmt = (ls: { n: number; text: string }[]) =>
    ls
      .filter((l) => !looksLikeInjection(l.text))
      .slice(-40)
      .map((l) => `L${l.n}: ${truncate(l.text, 300)}`)
      .join('\n');
  if (s.log.length)
    out.push({
      key: 'log',
      source: 'dbt.log',
      title: 'dbt.log (errors, warnings, summary)',
      excerpt: fmt(s.log),
      ref: s.logRef ?? 'logs/dbt.log',
    });
  s.cloud?.steps.forEach((st, i) => {
    if (st.lines.length)
      out.push({
        key: `step:${i}`,
        source: 'dbt.cloud_step',
        title: `Step "${st.name}" ${st.status ?? ''}`,
        excerpt: fmt(st.lines),
        ref: `${s.ref}#run_steps/${i}`,
      });
  });
  return out;
}

function macroDraft(s: DbtSnapshot): Draft | undefined {
  if (!s.macros.length || !s.results.some((r) => /undefined|macro/i.test(r.message ?? ''))) return undefined;
  return {
    key: 'macros',
    source: 'dbt.manifest',
    title: 'Macros defined in the project',
    excerpt: s.macros.slice(0, 60).join(', '),
    ref: `${s.ref}/manifest.json#macros`,
  };
}

/** Evidence drafts of a dbt snapshot, in a stable order; ids E1… are assigned by `buildEvidence`. */
function drafts(s: DbtSnapshot, gaps: string[]): Draft[] {
  const bad = s.results.filter((r) => !/^(?:success|pass|skipped|no-op)$/i.test(r.status));
  const skipped = s.results.filter((r) => r.status === 'skipped');
  const scoped = Object.values(s.nodes).filter(
    (n) => n.role !== 'downstream' || skipped.some((r) => r.uniqueId === n.uniqueId),
  );
  return [
    runDraft(s),
    ...bad.slice(0, MAX_NODES).map((r) => resultDraft(s, r)),
    ...(skipped.length
      ? [
          {
            key: 'skipped',
            source: 'dbt.run_results',
            title: `${skipped.length} node(s) skipped`,
            excerpt: skipped
              .slice(0, 30)
              .map((r) => shortName(r.uniqueId))
              .join(', '),
            ref: s.ref,
          },
        ]
      : []),
    ...freshnessDrafts(s),
    ...volumeDrafts(s),
    ...scoped.slice(0, MAX_NODES * 2).map((n) => nodeDraft(s, n)),
    ...Object.values(s.nodes)
      .filter((n) => n.role === 'failing')
      .map((n) => sqlDraft(s, n))
      .filter((d): d is Draft => !!d),
    ...[macroDraft(s)].filter((d): d is Draft => !!d),
    ...s.warehouse.map(profileDraft),
    ...logDrafts(s),
    ...gapDrafts('dbt', gaps),
  ];
}

/** Evidence for a dbt snapshot with stable keys → ids (`E1`…), redacted and bounded. */
export function buildEvidence(
  s: DbtSnapshot,
  gaps: string[],
): { evidence: Evidence[]; evidenceIndex: Record<string, string> } {
  return numberEvidence(drafts(s, gaps));
}
