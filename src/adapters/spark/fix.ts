/**
 * Spark fix templates: AQE skew-join settings for `spark.data_skew` and a `spark.executor.memoryOverhead`
 * sized from the executors' measured off-heap memory for `spark.memory_overhead_exceeded`, each with a
 * conf check (pytest) that fails on the settings the failing run used.
 */
import { posix } from 'node:path';
import type { Report } from '../../core/report.ts';
import { memToMiB, setConf } from '../git/conf.ts';
import type { PlatformFixer, ProposeInput, TemplateFix, TemplateOutcome } from '../git/fixer.ts';
import { roundUp } from '../git/fixer.ts';
import type { Located, RepoEntry } from '../git/repos.ts';
import type { SparkSnapshot } from './schema.ts';

const AQE = 'spark.sql.adaptive.enabled';
const SKEW = 'spark.sql.adaptive.skewJoin.enabled';
const OVERHEAD = 'spark.executor.memoryOverhead';

/** Tags a run carries: `spark.yarn.tags` entries and Kubernetes driver label values. */
function tagsOf(props: Record<string, string>): string[] {
  const yarn = (props['spark.yarn.tags'] ?? '').split(',').map((t) => t.trim());
  const labels = Object.entries(props)
    .filter(([k]) => k.startsWith('spark.kubernetes.driver.label.'))
    .map(([, v]) => v);
  return [...yarn, ...labels].filter(Boolean);
}

function appName(s: SparkSnapshot): string | undefined {
  return s.sparkProperties['spark.app.name'] ?? s.app?.name ?? undefined;
}

/** The Spark job whose app name (or tag) a mapping names. */
export function locateSpark(_report: Report, s: SparkSnapshot, repos: RepoEntry[]): Located {
  const name = appName(s);
  const tags = tagsOf(s.sparkProperties);
  for (const repo of repos)
    for (const m of repo.spark) {
      const byName = m.app !== undefined && m.app === name;
      const byTag = m.tag !== undefined && tags.includes(m.tag);
      if (!byName && !byTag) continue;
      const dir = posix.dirname(m.conf);
      return {
        ok: true,
        location: {
          repo,
          files: [m.conf],
          allowed: [dir === '.' ? m.conf : `${dir}/`, ...m.paths],
          basis: byName ? `spark.app.name ${name}` : `tag ${m.tag}`,
        },
      };
    }
  const what = [
    name ? `app name ${name}` : 'no app name',
    tags.length ? `tags ${tags.join(', ')}` : 'no tags',
  ];
  return {
    ok: false,
    reason: `No repository is mapped to this Spark job (${what.join(', ')}) in HEAL_REPOS_FILE.`,
  };
}

const slug = (s: string) =>
  s
    .replace(/[^a-zA-Z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
    .toLowerCase() || 'job';

/** A pytest module that reads the conf file next to it and asserts the settings. */
function confTest(conf: string, name: string, asserts: string[]): { path: string; content: string } {
  const dir = posix.dirname(conf);
  const path = posix.join(dir === '.' ? '' : dir, `test_heal_${slug(name)}_conf.py`);
  const content = `"""Added by Heal: the settings whose absence failed this job. Runs with pytest."""
import pathlib
import re

CONF = pathlib.Path(__file__).with_name(${JSON.stringify(posix.basename(conf))})


def setting(key):
    value = None
    for line in CONF.read_text().splitlines():
        if line.strip().startswith("#"):
            continue
        m = re.match(r"\\s*(?:--conf[\\s=]+)?[\\"']?" + re.escape(key) + r"(?:\\s*[=:]\\s*|\\s+)([^\\s\\"'\\\\]+)", line)
        if m:
            value = m.group(1)
    return value


def mib(value):
    m = re.fullmatch(r"(\\d+(?:\\.\\d+)?)([kmgt]?)b?", (value or "").strip().lower())
    assert m, f"unreadable memory size: {value!r}"
    return float(m.group(1)) * {"": 1, "k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}[m.group(2)]


${asserts.join('\n\n\n')}
`;
  return { path, content };
}

function skewJoin(input: ProposeInput<SparkSnapshot>, text: string): TemplateOutcome {
  const props = input.facts.sparkProperties;
  const ran = { aqe: props[AQE], skew: props[SKEW] };
  if (ran.aqe === 'true' && ran.skew === 'true')
    return {
      ok: false,
      words:
        'AQE skew-join handling was already on in the failing run, so a conf change will not fix it: salt the hot key (or filter it and join it separately) in the job code.',
    };
  const conf = input.location.files[0] ?? '';
  const name = appName(input.facts) ?? 'job';
  const next = setConf(text, { [AQE]: 'true', [SKEW]: 'true' });
  if (next === text)
    return {
      ok: false,
      words: `${conf} already enables AQE skew join, but the failing run had ${SKEW}=${ran.skew ?? 'unset'}: the job is launched with other settings; find what overrides them.`,
    };
  const why = `The failing run had ${AQE}=${ran.aqe ?? 'unset (false before Spark 3.2)'} and ${SKEW}=${ran.skew ?? 'unset'}, so these assertions fail on the pinned state.`;
  const test = confTest(conf, name, [
    `def test_aqe_skew_join_enabled():\n    assert setting(${JSON.stringify(AQE)}) == "true"\n    assert setting(${JSON.stringify(SKEW)}) == "true"`,
  ]);
  return {
    ok: true,
    fix: {
      template: 'spark.aqe_skew_join',
      title: `Enable AQE skew-join handling for ${name}`,
      explain: `Set ${AQE}=true and ${SKEW}=true in ${conf}: Spark then splits the oversized join partition the evidence shows into smaller tasks.`,
      changes: [{ path: conf, content: next }],
      prevention: { title: `Check the skew-join settings of ${name}`, changes: [test], why },
    },
  };
}

const GIB = 1024;
const TO_MIB = 1 / (1024 * 1024);

/** Off-heap memory an executor process tree used, MiB: Python/other RSS plus JVM off-heap pools. */
function offHeapMiB(m: Record<string, number>): number {
  const keys = [
    'ProcessTreePythonRSSMemory',
    'ProcessTreeOtherRSSMemory',
    'JVMOffHeapMemory',
    'DirectPoolMemory',
  ];
  return keys.reduce((sum, k) => sum + (m[k] ?? 0), 0) * TO_MIB;
}

/** The largest "X GB of Y GB physical memory used" the resource manager reported, as MiB over the limit. */
function overLimitMiB(s: SparkSnapshot): number | undefined {
  const text = JSON.stringify([s.executors.map((e) => e.removeReason), s.failedTasks]);
  let worst: number | undefined;
  for (const m of text.matchAll(/([\d.]+) ([KMGT])B of ([\d.]+) ([KMGT])B physical memory used/g)) {
    const used = memToMiB(`${m[1]}${m[2]}`) ?? 0;
    const limit = memToMiB(`${m[3]}${m[4]}`) ?? 0;
    worst = Math.max(worst ?? 0, used - limit);
  }
  return worst;
}

/** The overhead to set (MiB) and the sentence that sizes it; undefined when nothing measures the need. */
export function sizeOverhead(
  s: SparkSnapshot,
): { mib: number; current: number; need: number; basis: string } | undefined {
  const props = s.sparkProperties;
  const heap = memToMiB(props['spark.executor.memory'] ?? '1g') ?? GIB;
  const current = memToMiB(props[OVERHEAD]) ?? Math.max(384, heap * 0.1);
  const measured = s.executors
    .filter((e) => e.id !== 'driver' && e.peakMemoryMetrics)
    .map((e) => ({ id: e.id, need: offHeapMiB(e.peakMemoryMetrics ?? {}) }))
    .sort((a, b) => b.need - a.need)[0];
  const over = overLimitMiB(s);
  const fromLimit = over !== undefined ? current + over : 0;
  const need = Math.max(measured?.need ?? 0, fromLimit);
  if (need <= 0) return undefined;
  const mib = Math.max(roundUp(need * 1.25, 512), roundUp(current * 1.5, 512));
  const parts = [
    measured?.need
      ? `executor ${measured.id} used ${(measured.need / GIB).toFixed(1)} GiB off-heap (Python/JVM off-heap peak memory)`
      : '',
    over !== undefined
      ? `the resource manager killed containers ${(over / GIB).toFixed(1)} GiB over their limit`
      : '',
  ].filter(Boolean);
  return { mib, current, need, basis: `${parts.join('; ')}; overhead was ${Math.round(current)} MiB` };
}

function memoryOverhead(input: ProposeInput<SparkSnapshot>, text: string): TemplateOutcome {
  const size = sizeOverhead(input.facts);
  if (!size)
    return {
      ok: false,
      words: `Raise ${OVERHEAD} (or spark.executor.pyspark.memory for Python workers): no executor memory metrics or container-kill message measure how much it needs.`,
    };
  const conf = input.location.files[0] ?? '';
  const name = appName(input.facts) ?? 'job';
  const value = `${size.mib}m`;
  const next = setConf(text, { [OVERHEAD]: value });
  if (next === text)
    return { ok: false, words: `${conf} already sets ${OVERHEAD}=${value}; the run used other settings.` };
  const floor = Math.ceil(size.need);
  const test = confTest(conf, name, [
    `def test_memory_overhead_covers_measured_off_heap():\n    # measured by Heal on the failing run: ${floor} MiB off-heap per executor\n    assert mib(setting(${JSON.stringify(OVERHEAD)})) >= ${floor}`,
  ]);
  return {
    ok: true,
    fix: {
      template: 'spark.memory_overhead',
      title: `Raise ${OVERHEAD} of ${name} to ${value}`,
      explain: `Set ${OVERHEAD}=${value} in ${conf} (need × 1.25, rounded up to 512 MiB): ${size.basis}.`,
      changes: [{ path: conf, content: next }],
      prevention: {
        title: `Check that ${name}'s memory overhead covers its measured off-heap use`,
        changes: [test],
        why: `The failing run had ${OVERHEAD}=${Math.round(size.current)} MiB, below the ${floor} MiB it measurably needed, so the assertion fails on the pinned state.`,
      },
    },
  };
}

/** The Spark templates, keyed by the report's root-cause category. */
export const sparkFixer: PlatformFixer<SparkSnapshot> = {
  locate: locateSpark,
  async propose(input): Promise<TemplateOutcome> {
    const conf = input.location.files[0];
    const text = conf ? await input.ws.read(conf) : null;
    if (conf && text === null)
      return { ok: false, words: `The mapped conf file ${conf} does not exist at the base commit.` };
    const category = input.report.rootCause?.category;
    if (category === 'spark.data_skew') return skewJoin(input, text ?? '');
    if (category === 'spark.memory_overhead_exceeded') return memoryOverhead(input, text ?? '');
    return { ok: false, words: 'No mechanical Spark fix applies to this root cause.' };
  },
};

export type { TemplateFix };
