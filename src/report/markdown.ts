import { redact, truncate } from '../core/redact.ts';
import type { Evidence, Hypothesis, Report } from '../core/report.ts';
import { describeTarget } from '../core/target.ts';
import { CATEGORY_INFO } from '../core/taxonomy.ts';

/** Characters of one evidence excerpt in the file (the whole report is bounded by the report's own caps). */
const EXCERPT_CHARS = 8000;
const DIFF_CHARS = 20000;

/**
 * Every untrusted field is escaped as Slack messages are (`<` and `>` as entities): the file is shared in
 * Slack, so `<!channel>`, `<@U123>`, `<#C123>`, `<!subteam^S123>` or `<http://evil|click>` from a log stays
 * inert text, in prose, code spans and fenced blocks alike, and no HTML gets through. An `&` is escaped only
 * where it would read as an entity (`&lt;`), so URLs in refs and excerpts keep their plain `&`.
 */
function slackSafe(text: string): string {
  return text
    .replace(/&(?=#?\w+;)/g, '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

/** Untrusted text on one Markdown line: redacted, no line breaks, no HTML, Markdown syntax escaped. */
function inline(text: string, max = 500): string {
  const flat = slackSafe(truncate(redact(text), max).replace(/\s+/g, ' ').trim());
  return flat.replace(/[\\`*_[\]#|]/g, (c) => `\\${c}`);
}

/** Untrusted text as an inline code span (no escapes apply inside one, so backticks become quotes). */
function code(text: string, max = 300): string {
  return `\`${slackSafe(truncate(redact(text), max).replace(/\s+/g, ' ').trim()).replace(/`/g, "'")}\``;
}

/** A fenced block the content cannot close: the fence is longer than any backtick run inside. */
function fenced(text: string, lang: string, max: number): string {
  const body = slackSafe(truncate(redact(text), max).replace(/\s+$/, ''));
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${body}\n${fence}`;
}

const ids = (list: string[]) => (list.length ? list.map((id) => inline(id, 20)).join(', ') : '—');

function rootCause(report: Report): string[] {
  const rc = report.rootCause;
  if (!rc)
    return [
      '## Root cause',
      '',
      'No root cause: the evidence did not support one hypothesis strongly enough (Heal abstained).',
    ];
  return [
    '## Root cause',
    '',
    `**${rc.category}** · confidence ${Math.round(rc.confidence)}% — ${CATEGORY_INFO[rc.category].title}`,
    '',
    `- Culprit: ${rc.culprit.kind} ${code(rc.culprit.id)}`,
    `- Evidence: ${ids(rc.evidence)}`,
    '',
    inline(rc.summary, 3000),
  ];
}

function hypothesis(h: Hypothesis, n: number): string[] {
  return [
    `${n}. **${h.category}** (${h.status}, likelihood ${Math.round(h.likelihood)}%): ${inline(h.title)}`,
    `   - For: ${ids(h.evidenceFor)}; against: ${ids(h.evidenceAgainst)}`,
    ...(h.reasoning.trim() ? [`   - ${inline(h.reasoning, 2000)}`] : []),
  ];
}

function hypotheses(report: Report): string[] {
  if (!report.hypotheses.length) return ['## Hypotheses', '', 'None.'];
  const ranked = [...report.hypotheses].sort((a, b) => b.likelihood - a.likelihood);
  return ['## Hypotheses', '', ...ranked.flatMap((h, i) => hypothesis(h, i + 1))];
}

function remediation(report: Report): string[] {
  const r = report.remediation;
  const out = [
    '## Remediation',
    '',
    `- Action: **${r.action}**`,
    `- ${inline(r.summary, 2000)}`,
    `- Prevention: ${inline(r.prevention, 2000)}`,
    `- Monitoring: ${inline(r.monitoring, 2000)}`,
  ];
  if (r.fix) {
    const files = r.fix.files.map((f) => code(f, 200)).join(', ') || 'no files';
    out.push(
      '',
      `Proposed fix (${files}), applied only after approval:`,
      '',
      fenced(r.fix.diff, 'diff', DIFF_CHARS),
    );
  }
  return out;
}

function evidence(e: Evidence): string[] {
  const out = [
    `### ${inline(e.id, 20)} · ${inline(e.source, 80)} · ${inline(e.title)}`,
    '',
    `Ref: ${code(e.ref, 1000)}`,
  ];
  if (e.excerpt.trim()) out.push('', fenced(e.excerpt, 'text', EXCERPT_CHARS));
  return out;
}

/**
 * The incident report as a Markdown file (uploaded to the thread when an investigation completes): root
 * cause,
 * ranked hypotheses with status and cited evidence ids, remediation, gaps and every evidence item with its
 * excerpt in a fenced block. Pure; all report text is redacted and Slack-escaped, and untrusted text cannot
 * break the layout.
 */
export function renderMarkdown(report: Report): string {
  const gaps = report.gaps.length ? report.gaps.map((g) => `- ${inline(g, 1000)}`) : ['None.'];
  const lines = [
    `# Incident ${report.id}: ${inline(describeTarget(report.target), 300)}`,
    '',
    `- Pinned: ${code(report.pinned.ref)}${report.pinned.deterministic ? ' (deterministic)' : ''}`,
    `- Engine: ${report.engine}`,
    '',
    ...rootCause(report),
    '',
    ...hypotheses(report),
    '',
    ...remediation(report),
    '',
    '## Gaps',
    '',
    ...gaps,
    '',
    `## Evidence (${report.evidence.length})`,
    '',
    ...report.evidence.flatMap((e) => [...evidence(e), '']),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

/** The report's file name in Slack, e.g. `heal-inc_7k2m9q.md`. */
export function markdownFilename(report: Report): string {
  return `heal-${report.id}.md`;
}
