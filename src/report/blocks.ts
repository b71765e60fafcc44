import type { Hypothesis, Report } from '../core/report.ts';
import { describeTarget } from '../core/target.ts';
import { CATEGORY_INFO } from '../core/taxonomy.ts';
import { actionBlocks } from './actions.ts';
import { MAX_EVIDENCE_SHOWN } from './evidence.ts';
import { escapeMrkdwn, fitMessage } from './limits.ts';
import {
  type Block,
  cite,
  context,
  divider,
  header,
  plainError,
  STATUS_EMOJI,
  section,
  targetArg,
  untrusted,
} from './mrkdwn.ts';
import type { Phase, SlackMessage, ThreadState } from './types.ts';

export {
  ACTION_IDS,
  actionBlocks,
  isTransient,
  likelyFailsAgain,
  renderDryRun,
  renderRerunError,
  renderRerunOutcome,
  renderRerunStarted,
  rerunPathFor,
} from './actions.ts';
export { renderAck, renderAlreadyRunning, renderHelp, renderTargetError } from './ephemeral.ts';
export { renderEvidenceReplies } from './evidence.ts';

/** Hypotheses shown on the board; the rest are counted in a note. */
const MAX_HYPOTHESES = 8;

/** The searchable context element of a root cause, e.g. `spark.data_skew · confidence 85%`. */
export function categoryLine(category: string, confidence: number): string {
  return `${category} · confidence ${Math.round(confidence)}%`;
}

const STEPS: Array<[Phase, string]> = [
  ['pinned', 'Pin the failing run'],
  ['collected', 'Collect evidence'],
  ['diagnosed', 'Weigh hypotheses'],
];

const PHASE_LINE: Record<'queued' | 'pinned' | 'collected', string> = {
  queued: ':hourglass_flowing_sand: *Queued*: the investigation starts in a moment.',
  pinned: ':pushpin: *Pinned* the failing run; collecting evidence…',
  collected: ':mag: *Evidence collected*; weighing hypotheses…',
};

function headerBlocks(state: ThreadState): Block[] {
  const meta = [`Incident \`${state.incidentId}\``];
  if (state.requestedBy) meta.push(`requested by <@${escapeMrkdwn(state.requestedBy)}>`);
  if (state.report) meta.push(`pinned \`${untrusted(state.report.pinned.ref, 300)}\``);
  if (state.report) meta.push(`engine ${state.report.engine}`);
  return [
    header(`${state.incidentId} · ${describeTarget(state.target)}`),
    context([meta.join(' · ')], 'heal_meta'),
  ];
}

function progressBlocks(state: ThreadState, phase: 'queued' | 'pinned' | 'collected'): Block[] {
  const done = STEPS.findIndex(([p]) => p === phase);
  const steps = STEPS.map(([, label], i) => {
    const mark =
      i <= done ? ':white_check_mark:' : i === done + 1 ? ':hourglass_flowing_sand:' : ':white_small_square:';
    return `${mark} ${label}`;
  });
  const blocks = [section(PHASE_LINE[phase], 'heal_status'), context([steps.join('   ')], 'heal_steps')];
  const progress = (state.progress ?? []).slice(-10);
  if (progress.length)
    blocks.push(section(progress.map((p) => `• ${untrusted(p, 280)}`).join('\n'), 'heal_progress'));
  return blocks;
}

function failedBlocks(state: ThreadState): Block[] {
  return [
    section(`:x: *Investigation failed:* ${plainError(state.error ?? 'unknown error')}`, 'heal_status'),
    context(
      [
        `Nothing was changed. Run \`/heal ${escapeMrkdwn(targetArg(state.target))}\` again once the cause is fixed.`,
      ],
      'heal_failed_hint',
    ),
  ];
}

function rootCauseBlocks(report: Report): Block[] {
  const rc = report.rootCause;
  if (!rc) return abstainBlocks(report);
  const lines = [
    `:dart: *Root cause:* ${escapeMrkdwn(CATEGORY_INFO[rc.category].title)}`,
    `*Culprit:* ${rc.culprit.kind} \`${untrusted(rc.culprit.id, 300)}\``,
    untrusted(rc.summary, 2000),
    `*Evidence:* ${cite(rc.evidence)}`,
  ];
  return [
    section(lines.join('\n'), 'heal_root_cause'),
    {
      type: 'context',
      block_id: 'heal_category',
      elements: [{ type: 'plain_text', text: categoryLine(rc.category, rc.confidence), emoji: false }],
    },
  ];
}

function abstainBlocks(report: Report): Block[] {
  const open = report.hypotheses.filter((h) => h.status === 'inconclusive').slice(0, 3);
  const lines = [
    ':grey_question: *No root cause named.* The evidence does not decide, so Heal abstains rather than guess.',
    `*What would decide it:* ${untrusted(report.remediation.summary, 1000)}`,
  ];
  if (open.length)
    lines.push(
      `Still open: ${open.map((h) => `\`${h.category}\` (${Math.round(h.likelihood)}%)`).join(', ')}`,
    );
  if (report.gaps.length) lines.push(`Missing evidence: ${report.gaps.length} gap(s) listed below.`);
  return [
    section(lines.join('\n'), 'heal_root_cause'),
    context(['abstained · no root cause named'], 'heal_category'),
  ];
}

function hypothesisLine(h: Hypothesis): string {
  const head = `${STATUS_EMOJI[h.status]} *${untrusted(h.title, 300)}* · ${Math.round(h.likelihood)}% · ${h.status} · \`${h.category}\``;
  const cites = `for: ${cite(h.evidenceFor)} · against: ${cite(h.evidenceAgainst)}`;
  return `${head}\n${untrusted(h.reasoning, 1200)}\n_${cites}_`;
}

function boardBlocks(report: Report): Block[] {
  if (report.hypotheses.length === 0)
    return [section('*Hypotheses:* none could be formed from the evidence.', 'heal_board')];
  const ranked = [...report.hypotheses].sort((a, b) => b.likelihood - a.likelihood);
  const shown = ranked.slice(0, MAX_HYPOTHESES);
  const blocks: Block[] = [section('*Hypothesis board*', 'heal_board')];
  shown.forEach((h, i) => {
    blocks.push(section(hypothesisLine(h), `heal_hyp_${i + 1}`));
  });
  const more = ranked.length - shown.length;
  if (more > 0)
    blocks.push(context([`_… truncated, ${more} more hypotheses in the report_`], 'heal_board_more'));
  return blocks;
}

function gapBlocks(report: Report): Block[] {
  if (report.gaps.length === 0) return [];
  const shown = report.gaps.slice(0, 10).map((g) => `• ${untrusted(g, 250)}`);
  const more = report.gaps.length - shown.length;
  if (more > 0) shown.push(`_… truncated, ${more} more gaps in the report_`);
  return [section(`:warning: *Evidence that could not be collected*\n${shown.join('\n')}`, 'heal_gaps')];
}

function nextStepBlocks(report: Report): Block[] {
  const r = report.remediation;
  const lines = [
    `:wrench: *What to do next* (${r.action})`,
    untrusted(r.summary, 1200),
    `*Prevent:* ${untrusted(r.prevention, 600)}`,
    `*Monitor:* ${untrusted(r.monitoring, 600)}`,
  ];
  if (r.fix)
    lines.push(
      `*Proposed fix:* ${r.fix.files.map((f) => `\`${untrusted(f, 200)}\``).join(', ') || 'no files'}`,
    );
  return [section(lines.join('\n'), 'heal_next')];
}

function ago(at: number): string {
  const h = Math.max(0, Math.round((Date.now() - at) / 3600_000));
  return h < 24 ? `${h}h ago` : `${Math.round(h / 24)}d ago`;
}

/** The recurrence badge: "seen N times in 7 days, last fixed by …", escalated past the threshold. */
export function recurrenceBlocks(state: ThreadState): Block[] {
  const r = state.recurrence;
  if (!r || r.seen < 2) return [];
  const parts = [`:repeat: *Seen ${r.seen} times in ${r.windowDays} days*`];
  const fix = r.lastFix;
  if (fix)
    parts.push(
      `last fixed by ${fix.kind} (${escapeMrkdwn(fix.result)}) by <@${escapeMrkdwn(fix.by)}>, ${ago(fix.at)}`,
    );
  else parts.push('never fixed by a rerun or a merged fix so far');
  if (r.feedback) parts.push(`diagnosis feedback :+1: ${r.feedback.up} :-1: ${r.feedback.down}`);
  const lines = [parts.join(' · ')];
  if (r.escalate)
    lines.push(
      ':rotating_light: *Recurring failure*: escalate to the owner for a permanent fix; reruns only defer it.',
    );
  return [section(lines.join('\n'), 'heal_recurrence')];
}

function diagnosedBlocks(report: Report, state: ThreadState): Block[] {
  const count = report.evidence.length;
  const inThread = Math.min(count, MAX_EVIDENCE_SHOWN);
  const where = inThread === count ? 'in this thread' : `(${inThread} in this thread)`;
  return [
    ...rootCauseBlocks(report),
    ...recurrenceBlocks(state),
    divider('heal_div_1'),
    ...boardBlocks(report),
    ...gapBlocks(report),
    divider('heal_div_2'),
    ...nextStepBlocks(report),
    context(
      [
        `${count} evidence item${count === 1 ? '' : 's'} ${where} · full report: \`heal investigate ${escapeMrkdwn(targetArg(report.target))} --json\``,
      ],
      'heal_footer',
    ),
    ...actionBlocks(report, state),
  ];
}

function fallback(state: ThreadState): string {
  const base = `Heal ${state.incidentId} (${describeTarget(state.target)})`;
  const rc = state.report?.rootCause;
  if (state.phase === 'failed') return `${base}: investigation failed`;
  if (state.phase !== 'diagnosed' || !state.report) return `${base}: investigating (${state.phase})`;
  if (!rc) return `${base}: no root cause named, the evidence does not decide`;
  return `${base}: ${categoryLine(rc.category, rc.confidence)} · ${rc.culprit.kind} ${rc.culprit.id}`;
}

/**
 * The one thread-parent message, updated in place as the investigation advances: status while queued /
 * pinned / collected; once diagnosed the root cause (or a plain abstention), the hypothesis board, gaps,
 * what to do next and the buttons; on failure a plain error.
 */
export function renderParent(state: ThreadState): SlackMessage {
  let body: Block[];
  if (state.phase === 'failed') body = failedBlocks(state);
  else if (state.phase === 'diagnosed' && state.report) body = diagnosedBlocks(state.report, state);
  else body = progressBlocks(state, state.phase === 'diagnosed' ? 'collected' : state.phase);
  return fitMessage({ text: untrusted(fallback(state), 3000), blocks: [...headerBlocks(state), ...body] });
}
