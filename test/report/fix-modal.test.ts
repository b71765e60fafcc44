import { describe, expect, it } from 'vitest';
import type { FixProposal } from '../../src/diagnosis/fix.ts';
import {
  FIX_MODAL_CALLBACK,
  MODAL_LIMITS,
  renderFixModal,
  validateModal,
} from '../../src/report/fix-modal.ts';

const diff = (n: number) =>
  `diff --git a/dags/x.py b/dags/x.py\n--- a/dags/x.py\n+++ b/dags/x.py\n@@ -1,${n} +1,${n} @@\n${Array.from({ length: n }, (_, i) => `-old line ${i} <b>&\n+new line ${i} \`\`\``).join('\n')}\n`;

const proposal = (over: Partial<FixProposal> = {}): FixProposal => ({
  incidentId: 'inc_abc123',
  runId: 'warehouse_nightly/scheduled__2026-11-19T01:00:00+00:00#build_order_facts:try2',
  repo: 'acme/pipelines',
  url: 'https://github.com/acme/pipelines.git',
  defaultBranch: 'main',
  baseSha: 'a'.repeat(40),
  codePinned: false,
  dataPinned: true,
  dataRef: '2026-11-19T01:00:00+00:00',
  source: 'template',
  template: 'airflow.execution_timeout',
  title: 'Raise execution_timeout of warehouse_nightly.build_order_facts to 180 min',
  explain: 'Set execution_timeout=timedelta(hours=3) on build_order_facts.',
  allowed: ['dags/'],
  fix: { files: ['dags/x.py'], diff: diff(2), message: 'm' },
  prevention: {
    files: ['tests/test_x.py'],
    diff: diff(1),
    message: 'm',
    why: 'It fails on the pinned state.',
    title: 'Check the timeout',
  },
  ...over,
});

describe('approve-fix modal', () => {
  it('shows the diff, the test and a determinism table', () => {
    const view = renderFixModal(proposal(), { incidentId: 'inc_abc123', jobId: 'fix-inc_abc123-0123' });
    expect(view.type).toBe('modal');
    expect(view.callback_id).toBe(FIX_MODAL_CALLBACK);
    expect(JSON.parse(view.private_metadata)).toEqual({
      incidentId: 'inc_abc123',
      jobId: 'fix-inc_abc123-0123',
    });
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('Data ref pinned?*\\nYes');
    expect(text).toContain('Code SHA pinned?*\\nNo');
    expect(text).toContain('+new line 1');
    expect(text).toContain('&lt;b&gt;&amp;');
    expect(text).not.toMatch(/new line 0 ```/);
    expect(text).toContain('It fails on the pinned state.');
    expect(text).toContain('heal/inc_abc123');
    expect(validateModal(view)).toEqual([]);
  });

  it('clips a huge diff within the section limit and says the full diff is in the pull request', () => {
    const view = renderFixModal(
      proposal({ fix: { files: ['dags/x.py'], diff: diff(2000), message: 'm' }, codePinned: true }),
      {
        incidentId: 'inc_abc123',
        jobId: 'j',
      },
    );
    expect(validateModal(view)).toEqual([]);
    const fix = view.blocks.find((b: { text?: { text: string } }) => b.text?.text.startsWith('*Fix*'));
    expect(fix.text.text.length).toBeLessThanOrEqual(MODAL_LIMITS.sectionText);
    expect(fix.text.text).toMatch(/[^\n]\n… \(cut here: the full diff is in the pull request\)\n```$/);
    expect(JSON.stringify(view.blocks)).toContain('Code SHA pinned?*\\nYes');
  });

  it('says when no prevention test comes with the fix', () => {
    const view = renderFixModal(proposal({ prevention: null, dataPinned: false, dataRef: null }), {
      incidentId: 'inc_abc123',
      jobId: 'j',
    });
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('No prevention test comes with this fix.');
    expect(text).toContain('Data ref pinned?*\\nNo');
    expect(validateModal(view)).toEqual([]);
  });

  it('redacts secrets in the diff context lines it shows (the repo text), as the thread does', () => {
    const leaky = `${diff(1)} spark.hadoop.fs.s3a.secret.key=Xy7fakeHEALsecretKEY0123456789abcdEFGHij\n`;
    const view = renderFixModal(proposal({ fix: { files: ['dags/x.py'], diff: leaky, message: 'm' } }), {
      incidentId: 'inc_abc123',
      jobId: 'j',
    });
    expect(JSON.stringify(view)).not.toContain('Xy7fakeHEALsecretKEY0123456789abcdEFGHij');
    expect(JSON.stringify(view)).toContain('secret.key=[REDACTED]');
  });
});
