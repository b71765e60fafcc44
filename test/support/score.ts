import type { Scenario } from './fixtureServer.ts';

/** Scores one report against a scenario's `expect`, as the benchmark README defines the columns. */
export interface Score {
  top1: boolean;
  culprit: boolean | null;
  herringFree: boolean;
  cited: boolean;
  secretsLeaked: string[];
}

interface ReportLike {
  evidence?: Array<{ id: string }>;
  hypotheses?: Array<{ evidenceFor: string[]; evidenceAgainst: string[] }>;
  rootCause?: { category: string; culprit?: { id: string }; evidence: string[] } | null;
}

export function scoreReport(s: Scenario, report: ReportLike | undefined, rawOutput = ''): Score {
  if (!report)
    return {
      top1: false,
      culprit: s.expect.culprit ? false : null,
      herringFree: false,
      cited: false,
      secretsLeaked: [],
    };
  const rc = report.rootCause ?? null;
  const category = rc?.category ?? null;
  const top1 =
    s.expect.category === null ? category === null || category === 'unknown' : category === s.expect.category;
  const want = s.expect.culprit;
  const got = rc?.culprit?.id?.toLowerCase();
  const culprit = want ? [want.id, ...(want.aliases ?? [])].some((id) => id.toLowerCase() === got) : null;
  const herringFree = category === null || !s.expect.alternatives.includes(category);
  const known = new Set((report.evidence ?? []).map((e) => e.id));
  const cites = [
    ...(rc?.evidence ?? []),
    ...(report.hypotheses ?? []).flatMap((h) => [...h.evidenceFor, ...h.evidenceAgainst]),
  ];
  const cited = cites.every((id) => known.has(id));
  const secretsLeaked = (s.secrets ?? []).filter((x) => rawOutput.includes(x));
  return { top1, culprit, herringFree, cited, secretsLeaked };
}

/** The last complete JSON object on stdout (log lines before it are tolerated). */
export function lastJsonObject(stdout: string): unknown {
  const text = stdout.trimEnd();
  for (let start = text.lastIndexOf('{'); start >= 0; start = text.lastIndexOf('{', start - 1)) {
    if (start > 0 && text[start - 1] !== '\n') continue;
    try {
      return JSON.parse(text.slice(start));
    } catch {
      // not the start of the final object: keep scanning backwards
    }
  }
  return undefined;
}

export function summaryLine(scores: Score[]): string {
  const n = scores.length;
  const count = (f: (s: Score) => boolean) => scores.filter(f).length;
  const withCulprit = scores.filter((s) => s.culprit !== null);
  return `top1 ${count((s) => s.top1)}/${n} culprit ${withCulprit.filter((s) => s.culprit).length}/${withCulprit.length} herring-free ${count((s) => s.herringFree)}/${n} cited ${count((s) => s.cited)}/${n}`;
}
