import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/core/report.ts';
import { parseTarget } from '../../src/core/target.ts';
import {
  ACTION_IDS,
  renderAck,
  renderAlreadyRunning,
  renderEvidenceReplies,
  renderHelp,
  renderParent,
  renderTargetError,
} from '../../src/report/blocks.ts';
import { validateMessage } from '../../src/report/limits.ts';
import type { SlackMessage, ThreadState } from '../../src/report/types.ts';
import { abstainReport, hugeReport, PLANTED_SECRET, skewReport, sparkTarget } from './fixtures.ts';

// biome-ignore lint/suspicious/noExplicitAny: inspecting Block Kit JSON
type Block = any;

function state(over: Partial<ThreadState>): ThreadState {
  return {
    incidentId: 'inc_7k2m9q',
    target: sparkTarget,
    phase: 'queued',
    requestedBy: 'U024BE7LH',
    ...over,
  };
}

function diagnosed(report: Report): ThreadState {
  return state({ incidentId: report.id, phase: 'diagnosed', report });
}

function contextTexts(msg: SlackMessage): string[] {
  return msg.blocks
    .filter((b: Block) => b.type === 'context')
    .flatMap((b: Block) => b.elements.map((e: Block) => e.text));
}

function buttons(msg: SlackMessage): Block[] {
  return msg.blocks.filter((b: Block) => b.type === 'actions').flatMap((b: Block) => b.elements);
}

function expectValid(msg: SlackMessage) {
  expect(validateMessage(msg)).toEqual([]);
}

describe('renderParent', () => {
  const phases: Array<[string, ThreadState]> = [
    ['queued', state({})],
    ['pinned', state({ phase: 'pinned', progress: ['Pinned app-20261002031500-0117 attempt 1'] })],
    [
      'collected',
      state({ phase: 'collected', progress: ['Pinned attempt 1', 'Collected 6 evidence items, 1 gap'] }),
    ],
    [
      'failed',
      state({
        phase: 'failed',
        error:
          'History Server unreachable: connect ECONNREFUSED 127.0.0.1:18080\n    at TCPConnectWrap.afterConnect (node:net:1555:16)',
      }),
    ],
    ['diagnosed (skew)', diagnosed(skewReport())],
    ['diagnosed (abstain)', diagnosed(abstainReport())],
    ['diagnosed (huge)', diagnosed(hugeReport())],
  ];

  it.each(phases)('renders %s within Block Kit limits', (_name, s) => {
    const msg = renderParent(s);
    expectValid(msg);
    expect(msg).toMatchSnapshot();
  });

  it('shows the root cause as a searchable `category · confidence N%` context element', () => {
    const msg = renderParent(diagnosed(skewReport()));
    expect(contextTexts(msg)).toContain('spark.data_skew · confidence 85%');
    const rc = msg.blocks.find((b: Block) => b.block_id === 'heal_root_cause');
    expect(rc.text.text).toContain('*Culprit:* stage `5`');
    expect(msg.text).toContain('spark.data_skew · confidence 85%');
  });

  it('ranks the hypothesis board and keeps the dismissed red herring with its evidence', () => {
    const msg = renderParent(diagnosed(skewReport()));
    const board = msg.blocks
      .filter((b: Block) => /^heal_hyp_/.test(b.block_id))
      .map((b: Block) => b.text.text);
    expect(board).toHaveLength(3);
    expect(board[0]).toMatch(/^:white_check_mark: .*85% · confirmed · `spark.data_skew`/);
    expect(board[1]).toMatch(/10% · dismissed · `spark.executor_oom`[\s\S]*against: E3, E6/);
  });

  it('offers the five buttons where a rerun path exists, approve only for a fix, each carrying the incident id', () => {
    const airflow = { platform: 'airflow' as const, dagId: 'billing', runId: 'scheduled__1' };
    const fix = buttons(renderParent(diagnosed({ ...skewReport(), target: airflow })));
    expect(fix.map((b) => b.action_id)).toEqual([
      'heal_rerun',
      'heal_approve_fix',
      'heal_dismiss',
      'heal_feedback_up',
      'heal_feedback_down',
    ]);
    expect(new Set(fix.map((b) => b.value))).toEqual(new Set(['inc_7k2m9q']));
    const escalate = buttons(renderParent(diagnosed({ ...abstainReport(), target: airflow })));
    expect(escalate.map((b) => b.action_id)).not.toContain(ACTION_IDS.approveFix);
    expect(escalate.map((b) => b.action_id)).toContain(ACTION_IDS.rerun);
  });

  it('shows no Rerun for a Spark app with no known launcher, and says why', () => {
    const msg = renderParent(diagnosed(skewReport()));
    expect(buttons(msg).map((b) => b.action_id)).not.toContain(ACTION_IDS.rerun);
    expect(contextTexts(msg).join('\n')).toMatch(
      /No Rerun button: .*orchestrator launched this Spark application/,
    );
  });

  it('says plainly when it abstains, what would decide, and lists the gaps', () => {
    const msg = renderParent(diagnosed(abstainReport()));
    const all = JSON.stringify(msg.blocks);
    expect(all).toContain('No root cause named');
    expect(all).toContain('What would decide it:* The executor logs and task summaries would decide');
    expect(all).toContain('connect ECONNREFUSED');
    expect(contextTexts(msg).some((t) => /confidence \d+%/.test(t))).toBe(false);
    expect(msg.text).toContain('no root cause named');
  });

  it('shows no buttons and no stack trace before the diagnosis or on failure', () => {
    for (const phase of ['queued', 'pinned', 'collected'] as const)
      expect(buttons(renderParent(state({ phase })))).toEqual([]);
    const failed = renderParent(state({ phase: 'failed', error: 'boom\n    at x (y.ts:1:1)' }));
    expect(buttons(failed)).toEqual([]);
    expect(JSON.stringify(failed)).not.toContain('y.ts');
    expect(JSON.stringify(failed)).toContain('Investigation failed');
  });

  it('truncates a huge report visibly, keeps the buttons, and leaks no secret or mention', () => {
    const msg = renderParent(diagnosed(hugeReport()));
    const all = JSON.stringify(msg);
    expect(msg.blocks.length).toBeLessThanOrEqual(50);
    expect(all).toContain('more hypotheses in the report');
    expect(all).toContain('more gaps in the report');
    expect(all).toContain('[truncated]');
    expect(all).not.toContain('<!channel>');
    expect(msg.blocks.at(-1).type).toBe('actions');
  });
});

describe('renderEvidenceReplies', () => {
  it('groups the evidence with ids, sources and excerpts in code blocks', () => {
    const replies = renderEvidenceReplies(skewReport());
    expect(replies).toHaveLength(2);
    for (const r of replies) expectValid(r);
    const text = JSON.stringify(replies[0]?.blocks);
    expect(text).toContain(
      '*E3 · spark.task_summary · Stage 5.0 shuffle read: median 142 MiB, max 6.8 GiB (49x)*',
    );
    expect(text).toContain('```\\n26/10/02 03:41:07 INFO ShuffleBlockFetcherIterator');
    expect(JSON.stringify(replies[1])).toContain('+spark.sql.adaptive.skewJoin.enabled true');
    expect(replies).toMatchSnapshot();
  });

  it('caps 80 huge items with a visible note, cited items first, and redacts again', () => {
    const report = hugeReport();
    const replies = renderEvidenceReplies(report);
    for (const r of replies) expectValid(r);
    expect(replies.length).toBe(5);
    expect(replies.at(-1)?.text).toBe('Proposed fix for inc_huge80');
    const all = JSON.stringify(replies);
    expect(all).toContain('… truncated, 56 more evidence items in the report');
    expect(all).toContain('*E80 · spark.executor_log');
    expect(all).not.toContain(PLANTED_SECRET);
    expect(all).not.toContain('<!channel>');
    for (const r of replies)
      for (const b of r.blocks.filter((x: Block) => x.type === 'section'))
        expect((b.text.text.match(/```/g) ?? []).length % 2).toBe(0);
    expect(replies).toMatchSnapshot();
  });

  it('posts nothing for a report without evidence or fix', () => {
    const r = abstainReport();
    expect(renderEvidenceReplies({ ...r, evidence: [] })).toEqual([]);
  });
});

describe('ephemeral messages', () => {
  it('acks with the incident id', () => {
    const msg = renderAck('inc_7k2m9q', sparkTarget);
    expectValid(msg);
    expect(msg.text).toMatch(
      /^:mag: Investigating spark app-20261002031500-0117 \(attempt 1\) \(inc_7k2m9q\)/,
    );
  });

  it('shows the grammar in help', () => {
    const msg = renderHelp();
    expectValid(msg);
    expect(JSON.stringify(msg)).toContain('spark   &lt;app-id&gt;[/&lt;attempt&gt;]');
    expect(msg).toMatchSnapshot();
  });

  it('names the word it did not understand, with the grammar and an example', () => {
    const parsed = parseTarget('sprak app-1');
    if (parsed.ok) throw new Error('expected a parse error');
    const msg = renderTargetError(parsed.error);
    expectValid(msg);
    const all = JSON.stringify(msg);
    expect(all).toContain('`sprak`');
    expect(all).toContain('airflow &lt;dag_id&gt;');
    expect(all).toContain('Example:');
    expect(msg).toMatchSnapshot();
  });

  it('links a duplicate /heal to the existing thread', () => {
    const link = renderAlreadyRunning('inc_7k2m9q', 'https://acme.slack.com/archives/C1/p1700000000000100');
    expectValid(link);
    expect(link.text).toContain('<https://acme.slack.com/archives/C1/p1700000000000100|the existing thread>');
    expect(link.text).toContain('inc_7k2m9q');
    expect(renderAlreadyRunning('inc_7k2m9q').text).toContain('the existing thread in this channel');
  });
});
