import { describe, expect, it } from 'vitest';
import { renderText } from '../../src/report/text.ts';
import { abstainReport, hugeReport, PLANTED_SECRET, skewReport } from './fixtures.ts';

describe('renderText', () => {
  it('renders a diagnosis for the terminal', () => {
    const out = renderText(skewReport());
    expect(out).toContain('Pinned: app-20261002031500-0117/1 (deterministic)');
    expect(out).toContain('spark.data_skew · confidence 85%');
    expect(out).toContain('Culprit:  stage 5');
    expect(out).toMatch(/\[dismissed\]\s+10%\s+spark\.executor_oom/);
    expect(out).toContain('E4 · spark.executor_log · executor 6 stderr');
    expect(out).toContain('+spark.sql.adaptive.skewJoin.enabled true');
    expect(out).not.toContain('\u001b[');
    expect(out).toMatchSnapshot();
  });

  it('says plainly when it abstains and lists the gaps', () => {
    const out = renderText(abstainReport());
    expect(out).toContain('Root cause: none named');
    expect(out).toContain('Gaps (evidence that could not be collected)');
    expect(out).toContain('connect ECONNREFUSED');
    expect(out).toMatchSnapshot();
  });

  it('bounds excerpts, redacts secrets and strips terminal escapes from untrusted text', () => {
    const report = hugeReport();
    const first = report.evidence[0];
    if (first) first.excerpt = `\u001b[2J\u001b]0;pwned\u0007${first.excerpt}`;
    const out = renderText(report, { excerptLines: 3 });
    expect(out).not.toContain(PLANTED_SECRET);
    expect(out).not.toContain('\u001b');
    expect(out).toContain('more lines');
    expect(out).toContain('E80 · spark.executor_log');
  });

  it('colours only on request', () => {
    expect(renderText(skewReport(), { color: true })).toContain('\u001b[1m');
  });
});
