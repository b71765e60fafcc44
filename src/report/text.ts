import { redact, truncate } from '../core/redact.ts';
import type { Evidence, Hypothesis, Report } from '../core/report.ts';
import { describeTarget } from '../core/target.ts';
import { CATEGORY_INFO } from '../core/taxonomy.ts';

export interface TextOptions {
  /** ANSI colours (only when stdout is a TTY). Default false. */
  color?: boolean;
  /** Lines of each evidence excerpt to print. Default 12. */
  excerptLines?: number;
}

type Paint = (code: string, s: string) => string;

const STATUS_MARK: Record<Hypothesis['status'], string> = {
  confirmed: '[confirmed]   ',
  dismissed: '[dismissed]   ',
  inconclusive: '[inconclusive]',
};

function painter(color: boolean): Paint {
  return color ? (code, s) => `\u001b[${code}m${s}\u001b[0m` : (_code, s) => s;
}

// Strips terminal control sequences from untrusted text so a log line cannot drive the terminal.
function clean(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return redact(text).replace(/\u001b\[[0-9;?]*[A-Za-z]|[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

function indent(text: string, pad = '    '): string {
  return text
    .split('\n')
    .map((l) => `${pad}${l}`)
    .join('\n');
}

function rootCauseLines(report: Report, p: Paint): string[] {
  const rc = report.rootCause;
  if (!rc) {
    return [
      p('1;33', 'Root cause: none named (Heal abstains: the evidence does not decide)'),
      `  What would decide it: ${clean(report.remediation.summary)}`,
    ];
  }
  return [
    p('1', `Root cause: ${CATEGORY_INFO[rc.category].title}`),
    `  ${p('36', `${rc.category} · confidence ${Math.round(rc.confidence)}%`)}`,
    `  Culprit:  ${rc.culprit.kind} ${clean(rc.culprit.id)}`,
    `  Summary:  ${clean(rc.summary)}`,
    `  Evidence: ${rc.evidence.join(', ') || 'none'}`,
  ];
}

function hypothesisLines(report: Report, p: Paint): string[] {
  if (report.hypotheses.length === 0) return ['Hypotheses: none'];
  const ranked = [...report.hypotheses].sort((a, b) => b.likelihood - a.likelihood);
  const colour = { confirmed: '32', dismissed: '2', inconclusive: '33' } as const;
  return [
    p('1', 'Hypotheses'),
    ...ranked.flatMap((h) => [
      `  ${p(colour[h.status], STATUS_MARK[h.status])} ${String(Math.round(h.likelihood)).padStart(3)}%  ${h.category}  ${clean(h.title)}`,
      `      ${clean(h.reasoning)}`,
      `      for: ${h.evidenceFor.join(', ') || 'none'}   against: ${h.evidenceAgainst.join(', ') || 'none'}`,
    ]),
  ];
}

function evidenceLines(report: Report, p: Paint, maxLines: number): string[] {
  if (report.evidence.length === 0) return ['Evidence: none collected'];
  const item = (e: Evidence): string[] => {
    const lines = clean(e.excerpt).trimEnd().split('\n');
    const shown = lines.slice(0, maxLines);
    if (lines.length > maxLines) shown.push(`… ${lines.length - maxLines} more lines`);
    return [
      `  ${p('1', e.id)} · ${clean(e.source)} · ${clean(e.title)}`,
      `      ref: ${clean(e.ref)}`,
      ...(e.excerpt.trim() ? [indent(shown.map((l) => truncate(l, 400)).join('\n'), '      | ')] : []),
    ];
  };
  return [p('1', `Evidence (${report.evidence.length})`), ...report.evidence.flatMap(item)];
}

function remediationLines(report: Report, p: Paint): string[] {
  const r = report.remediation;
  const lines = [
    p('1', `What to do next (${r.action})`),
    `  ${clean(r.summary)}`,
    `  Prevent: ${clean(r.prevention)}`,
    `  Monitor: ${clean(r.monitoring)}`,
  ];
  if (r.fix)
    lines.push(
      `  Proposed fix (${r.fix.files.map(clean).join(', ') || 'no files'}):`,
      indent(clean(r.fix.diff).trimEnd()),
    );
  return lines;
}

/**
 * A readable terminal report for `heal investigate <target>` (without `--json`): target, pinned ref, root
 * cause with `category · confidence N%`, culprit, summary, hypothesis board, evidence with ids, gaps and
 * remediation. Untrusted text is redacted and stripped of terminal control sequences.
 */
export function renderText(report: Report, opts: TextOptions = {}): string {
  const p = painter(opts.color ?? false);
  const pin = report.pinned;
  const head = [
    p('1', `Heal ${report.id} · ${clean(describeTarget(report.target))}`),
    `Pinned: ${clean(pin.ref)}${pin.deterministic ? ' (deterministic)' : ''}` +
      `${pin.codeRef ? ` · code ${clean(pin.codeRef)}` : ''}${pin.dataRef ? ` · data ${clean(pin.dataRef)}` : ''}`,
    `Engine: ${report.engine}`,
  ];
  const gaps = report.gaps.length
    ? [p('1;33', 'Gaps (evidence that could not be collected)'), ...report.gaps.map((g) => `  - ${clean(g)}`)]
    : [];
  const sections = [
    head,
    rootCauseLines(report, p),
    hypothesisLines(report, p),
    evidenceLines(report, p, opts.excerptLines ?? 12),
    gaps,
    remediationLines(report, p),
  ];
  return `${sections
    .filter((s) => s.length)
    .map((s) => s.join('\n'))
    .join('\n\n')}\n`;
}
