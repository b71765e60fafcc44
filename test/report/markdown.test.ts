import { describe, expect, it } from 'vitest';
import { Report } from '../../src/core/report.ts';
import { markdownFilename, renderMarkdown } from '../../src/report/markdown.ts';
import { abstainReport, hugeReport, PLANTED_SECRET, skewReport } from './fixtures.ts';

/** Slack control sequences an untrusted log line may carry (a broadcast, a mention, a disguised link…). */
const SLACK_CONTROL =
  '<!channel> <!here> <@U0123ABC> <#C0123ABC> <!subteam^S0123ABC> <http://evil.example|click> & <b>';

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

  it('escapes Slack control sequences in every untrusted field, as the Slack messages do', () => {
    const base = skewReport();
    const h = SLACK_CONTROL;
    const hostile = Report.parse({
      ...base,
      pinned: { ...base.pinned, ref: `ref ${h}` },
      evidence: base.evidence.slice(0, 2).map((e) => ({
        ...e,
        source: `${e.source} ${h}`,
        title: `${e.title} ${h}`,
        excerpt: `${e.excerpt}\n${h}`,
        ref: `${e.ref} ${h}`,
      })),
      hypotheses: base.hypotheses.map((x) => ({
        ...x,
        title: `${x.title} ${h}`,
        reasoning: `${x.reasoning} ${h}`,
      })),
      rootCause: base.rootCause && {
        ...base.rootCause,
        culprit: { ...base.rootCause.culprit, id: `5 ${h}` },
        summary: `${base.rootCause.summary} ${h}`,
      },
      remediation: {
        ...base.remediation,
        summary: `${base.remediation.summary} ${h}`,
        prevention: `p ${h}`,
        monitoring: `m ${h}`,
        fix: { files: [`conf ${h}`], diff: `${base.remediation.fix?.diff}+${h}\n` },
      },
      gaps: [`gap ${h}`],
    });
    const md = renderMarkdown(hostile);
    expect(md).toMatchSnapshot();
    expect(md).not.toMatch(/<[!@#]|<https?:|<b>/);
    expect(md).not.toContain('<');
    // 15 untrusted fields of the report and 4 per evidence item, each escaped (prose, code spans, fences).
    expect(md.split('&lt;!channel&gt;').length - 1).toBe(15 + 4 * 2);
    expect(md).toContain('&lt;http://evil.example\\|click&gt;');
    expect(md).toContain('&lt;!subteam^S0123ABC&gt;');
  });

  it('keeps plain ampersands readable and escapes only entity-like ones', () => {
    const base = skewReport();
    const md = renderMarkdown(
      Report.parse({ ...base, gaps: ['GET /logPage/?appId=a&executorId=6 said &lt;init&gt;'] }),
    );
    expect(md).toContain('- GET /logPage/?appId=a&executorId=6 said &amp;lt;init&amp;gt;');
  });
});
