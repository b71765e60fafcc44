import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/core/report.ts';
import type { Target } from '../../src/core/target.ts';
import { renderDryRun, renderParent, renderRerunError, renderRerunOutcome } from '../../src/report/blocks.ts';
import { renderRefusal, renderRerunConfirm } from '../../src/report/ephemeral.ts';
import { LIMITS, validateMessage } from '../../src/report/limits.ts';
import type { IncidentSummary, SlackMessage, ThreadState } from '../../src/report/types.ts';
import { renderHistory, renderHome, renderStatus } from '../../src/report/views.ts';
import { abstainReport, skewReport } from './fixtures.ts';

// biome-ignore lint/suspicious/noExplicitAny: inspecting Block Kit JSON
type Block = any;

const AIRFLOW: Target = {
  platform: 'airflow',
  dagId: 'billing_rollup',
  runId: 'scheduled__2026-10-02T03:15:00+00:00',
};
const AT = Date.UTC(2026, 9, 2, 4, 5, 6);

function airflowReport(over: Partial<Report> = {}): Report {
  return { ...skewReport(), target: AIRFLOW, ...over };
}

function parent(report: Report, actions?: ThreadState['actions']): SlackMessage {
  return renderParent({
    incidentId: report.id,
    target: report.target,
    phase: 'diagnosed',
    report,
    ...(actions ? { actions } : {}),
  });
}

const actionIds = (m: SlackMessage) =>
  m.blocks
    .filter((b: Block) => b.type === 'actions')
    .flatMap((b: Block) => b.elements.map((e: Block) => e.action_id));
const blockOf = (m: SlackMessage, id: string) => m.blocks.find((b: Block) => b.block_id === id);

describe('action buttons and what replaces them', () => {
  it('asks for confirmation on the Rerun button when the cause is not transient', () => {
    const rerun = blockOf(parent(airflowReport()), 'heal_actions').elements[0];
    expect(rerun.action_id).toBe('heal_rerun');
    expect(rerun.confirm.text.text).toMatch(/spark\.data_skew .*likely fail again/);
    const transient = airflowReport({
      pinned: { ...skewReport().pinned, deterministic: false },
      remediation: { ...skewReport().remediation, action: 'rerun' },
    });
    const plain = blockOf(parent(transient), 'heal_actions').elements[0];
    expect(plain.confirm).toBeUndefined();
    expect(plain.style).toBe('primary');
  });

  it('replaces Rerun / Approve / Dismiss with who did what and when; feedback stays with counts', () => {
    const msg = parent(airflowReport(), {
      rerun: { by: 'U0ONCALL7', at: AT, status: 'running', summary: 'cleared 3 task instances' },
      feedback: { up: 2, down: 1 },
    });
    expect(actionIds(msg)).toEqual(['heal_feedback_up', 'heal_feedback_down']);
    expect(msg.blocks).toMatchSnapshot();
    const dismissed = parent(abstainReport(), { dismissed: { by: 'U0ONCALL7', at: AT } });
    expect(JSON.stringify(blockOf(dismissed, 'heal_actions_done'))).toContain(
      '<@U0ONCALL7> dismissed this incident <!date^',
    );
    expect(actionIds(dismissed)).toEqual(['heal_undismiss', 'heal_feedback_up', 'heal_feedback_down']);
  });

  it('never lets a user id or summary inject mentions or markup', () => {
    const msg = parent(airflowReport(), {
      rerun: { by: '<!channel>', at: AT, status: 'error', summary: '<!here> *boom* <https://evil|x>' },
    });
    const text = JSON.stringify(blockOf(msg, 'heal_actions_done'));
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<!here>');
    expect(text).not.toContain('<https://evil');
  });
});

describe('rerun thread replies and ephemerals', () => {
  it('lists what a dry run would clear, capped, within Block Kit limits', () => {
    const items = Array.from({ length: 80 }, (_, i) => `task_${i}_${'x'.repeat(150)}`);
    const msg = renderDryRun(items, 'clearing would reset 80 task instances of run r1');
    expect(validateMessage(msg)).toEqual([]);
    expect(JSON.stringify(msg)).toContain('and 68 more');
    expect(
      renderDryRun(['build_features', 'train_propensity'], 'clearing would reset 2 task instances'),
    ).toMatchSnapshot();
  });

  it('renders outcomes, errors, refusals and the confirmation', () => {
    const all = [
      renderRerunOutcome('succeeded', 'build_features: success (try 3)'),
      renderRerunOutcome('running', 'no outcome after 70 min'),
      renderRerunError(
        'Airflow: POST /api/v1/dags/x/clearTaskInstances failed: HTTP 403 Forbidden\n    at frame',
        false,
      ),
      renderRefusal('rerun', true),
      renderRefusal('rerun', false),
      renderRerunConfirm(
        'inc_7k2m9q',
        'The root cause is `airflow.auth_error`: a rerun will likely fail again.',
        'clear 2 tasks',
      ),
    ];
    for (const m of all) expect(validateMessage(m)).toEqual([]);
    expect(JSON.stringify(all[2])).not.toContain('at frame');
    expect(all[5]?.blocks[1].elements[0].action_id).toBe('heal_rerun_confirm');
    expect(all).toMatchSnapshot();
  });
});

function summary(i: number): IncidentSummary {
  return {
    incidentId: `inc_${i.toString(16).padStart(8, '0')}`,
    target: { platform: 'airflow', dagId: `dag_${i}_${'y'.repeat(200)}`, runId: `scheduled__${i}` },
    createdAt: AT + i * 60_000,
    checkpoint: i % 3 ? 'published' : 'failed',
    ...(i % 3
      ? { rootCause: { category: 'airflow.oom_killed', confidence: 80, culprit: `task build_${i}` } }
      : {}),
    permalink: `https://example.slack.com/archives/C1/p${1000 + i}`,
  };
}

describe('status, history and App Home views', () => {
  it('keeps 60 incidents within the 50-block and 3000-character limits, counting the rest', () => {
    const many = Array.from({ length: 60 }, (_, i) => summary(i));
    for (const m of [renderStatus(many), renderHistory('dag_1', many)]) {
      expect(validateMessage(m)).toEqual([]);
      expect(m.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
      expect(JSON.stringify(m)).toContain('and 40 more');
    }
    const home = renderHome(many, many);
    expect(home.blocks.length).toBeLessThanOrEqual(100);
    for (const b of home.blocks as Block[])
      if (b.text?.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
  });

  it('says so when nothing is open, and snapshots a short list', () => {
    expect(JSON.stringify(renderStatus([]))).toContain('No open incidents');
    expect(renderStatus([summary(1), summary(3)])).toMatchSnapshot();
    expect(renderHome([summary(1)], [summary(1), summary(3)])).toMatchSnapshot();
  });
});
