import { describe, expect, it } from 'vitest';
import { Report } from '../../src/core/report.ts';
import { markdownFilename, renderMarkdown } from '../../src/report/markdown.ts';
import { abstainReport, hugeReport, PLANTED_SECRET, skewReport } from './fixtures.ts';

/** CommonMark fences: the lines outside fenced blocks, and whether a block was left open. */
function outsideFences(md: string): { lines: string[]; open: boolean } {
  const lines: string[] = [];
  let fence = 0;
  for (const line of md.split('\n')) {
    const run = line.match(/^(`{3,})/)?.[1]?.length ?? 0;
    if (!fence && run) fence = run;
    else if (fence && run >= fence && /^`+\s*$/.test(line)) fence = 0;
    else if (!fence) lines.push(line);
  }
  return { lines, open: fence > 0 };
}

describe('renderMarkdown', () => {
  it('renders the skew diagnosis: root cause, ranked hypotheses with status and ids, remediation, evidence', () => {
    const md = renderMarkdown(skewReport());
    expect(md).toMatchSnapshot();
    const report = skewReport();
    expect(md).toContain(`# Incident ${report.id}`);
    expect(md).toContain(`**${report.rootCause?.category}** · confidence`);
    const ranked = [...report.hypotheses].sort((a, b) => b.likelihood - a.likelihood);
    const positions = ranked.map((h) => md.indexOf(`**${h.category}** (${h.status}`));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    for (const e of report.evidence) expect(md).toContain(`### ${e.id} · `);
    expect(outsideFences(md).open).toBe(false);
    expect(markdownFilename(report)).toBe(`heal-${report.id}.md`);
  });

  it('says plainly when Heal abstained and lists the gaps', () => {
    const report = abstainReport();
    const md = renderMarkdown(report);
    expect(md).toMatchSnapshot();
    expect(md).toContain('No root cause');
    for (const g of report.gaps)
      expect(md).toContain(g.slice(0, 30).replace(/[\\`*_[\]<>#|]/g, (c) => `\\${c}`));
  });

  it('redacts secrets and keeps untrusted fences and headings from breaking the layout', () => {
    const base = hugeReport();
    const hostile = Report.parse({
      ...base,
      evidence: base.evidence
        .slice(0, 3)
        .map((e, i) =>
          i === 1
            ? { ...e, title: '## Root cause\n# pwned <script>', excerpt: 'a ```` b\n````\n# fake heading' }
            : e,
        ),
      hypotheses: [],
      rootCause: null,
    });
    const md = renderMarkdown(hostile);
    expect(md).not.toContain(PLANTED_SECRET);
    expect(md).toContain('[REDACTED');
    const { lines, open } = outsideFences(md);
    expect(open).toBe(false);
    expect(lines.filter((l) => l === '## Root cause')).toHaveLength(1);
    expect(lines.filter((l) => /^#{1,6} (pwned|fake heading)/.test(l))).toEqual([]);
    expect(md).not.toContain('<script>');
    // The excerpt holding a 4-backtick run is fenced with 5, so its content cannot close the block.
    expect(md).toContain('`````text\na ```` b\n````\n# fake heading\n`````');
  });
});
