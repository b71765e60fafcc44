import type { Report } from '../core/report.ts';
import type { Target } from '../core/target.ts';
import { clip, escapeMrkdwn, fitMessage } from './limits.ts';
import { type Block, button, context, plainError, section, untrusted } from './mrkdwn.ts';
import type {
  ActionStamp,
  ActionsState,
  FixView,
  RerunAvailability,
  RerunView,
  SlackMessage,
  ThreadState,
} from './types.ts';

/** Slack `action_id`s of the thread-parent buttons (DESIGN.md §5). A public contract: keep them exactly. */
export const ACTION_IDS = {
  rerun: 'heal_rerun',
  approveFix: 'heal_approve_fix',
  dismiss: 'heal_dismiss',
  /** Undo a dismissal (shown in place of the buttons once someone dismissed). */
  undismiss: 'heal_undismiss',
  feedbackUp: 'heal_feedback_up',
  feedbackDown: 'heal_feedback_down',
  /** The "Rerun anyway" button of the ephemeral confirmation (root cause not transient). */
  rerunConfirm: 'heal_rerun_confirm',
} as const;

/**
 * Whether a rerun path exists for a target, from the target alone: Airflow clears task instances, dbt Cloud
 * reruns from failure; a Spark app's launcher is unknown and a local dbt target dir has no job to rerun.
 */
export function rerunPathFor(target: Target): RerunAvailability {
  switch (target.platform) {
    case 'airflow':
      return { available: true, what: 'clear the failed task instances of the pinned run (dry run first)' };
    case 'dbt':
      return target.cloudRunId
        ? { available: true, what: 'rerun the dbt Cloud job from the point of failure' }
        : {
            available: false,
            why: 'this is a local dbt target/ dir: Heal has no dbt Cloud job to rerun (run `dbt retry` in the project)',
          };
    case 'spark':
      return {
        available: false,
        why: 'Heal does not know which orchestrator launched this Spark application: rerun it from its scheduler (`/heal` the Airflow run to get a Rerun button)',
      };
  }
}

/** A rerun is expected to help only for a transient cause the diagnosis itself recommends rerunning. */
export function isTransient(report: Report): boolean {
  return !report.pinned.deterministic && report.remediation.action === 'rerun' && report.rootCause !== null;
}

/** Why a rerun will likely fail again, for the confirmation (empty when the cause is transient). */
export function likelyFailsAgain(report: Report): string {
  if (isTransient(report)) return '';
  const rc = report.rootCause;
  if (!rc) return 'Heal named no root cause, so nothing says a rerun will behave differently.';
  const why = report.pinned.deterministic ? 'the same inputs fail the same way' : 'it is not transient';
  return `The root cause is \`${rc.category}\` (${why}): a rerun will likely fail again.`;
}

const USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** `<@U…>` for a Slack user id, or the escaped text when it is not one. */
export function mention(user: string): string {
  return USER_ID.test(user) ? `<@${user}>` : escapeMrkdwn(user);
}

/** A Slack date token (rendered in each reader's time zone) with an ISO fallback. */
export function when(at: number): string {
  const iso = new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `<!date^${Math.floor(at / 1000)}^{date_short_pretty} at {time}|${iso}>`;
}

const RERUN_LINE: Record<RerunView['status'], (v: RerunView) => string> = {
  requested: (v) => `:arrows_counterclockwise: ${mention(v.by)} asked for a rerun ${when(v.at)}: dry run…`,
  previewed: (v) =>
    `:arrows_counterclockwise: ${mention(v.by)} asked for a rerun ${when(v.at)}: dry run done`,
  running: (v) =>
    `:arrows_counterclockwise: ${mention(v.by)} reran this ${when(v.at)}; following the new try`,
  succeeded: (v) => `:white_check_mark: ${mention(v.by)} reran this ${when(v.at)}: the new try succeeded`,
  failed: (v) => `:x: ${mention(v.by)} reran this ${when(v.at)}: the new try failed`,
  error: (v) => `:warning: ${mention(v.by)} asked for a rerun ${when(v.at)}; it did not happen`,
};

function rerunLine(v: RerunView): string {
  const summary = v.summary ? ` (${untrusted(v.summary, 400)})` : '';
  return `${RERUN_LINE[v.status](v)}${summary}`;
}

function fixLine(f: FixView): string {
  const who = `${mention(f.by)} approved the fix ${when(f.at)}`;
  if (f.status === 'opened')
    return `:hammer_and_wrench: ${who}: pull request ${f.url ? `<${f.url}|opened>` : 'opened'}${f.branch ? ` from \`${untrusted(f.branch, 120)}\`` : ''}`;
  if (f.status === 'error')
    return `:warning: ${who}; it did not happen${f.summary ? ` (${untrusted(f.summary, 400)})` : ''}`;
  return `:hammer_and_wrench: ${who}: opening a pull request…`;
}

function dismissLine(d: ActionStamp): string {
  return `:no_bell: ${mention(d.by)} dismissed this incident ${when(d.at)}`;
}

function rerunButton(report: Report): Block {
  const transient = isTransient(report);
  const b = button(ACTION_IDS.rerun, 'Rerun', report.id, transient ? 'primary' : undefined);
  if (transient) return b;
  return {
    ...b,
    confirm: {
      title: { type: 'plain_text', text: 'Rerun anyway?' },
      text: { type: 'plain_text', text: clip(likelyFailsAgain(report).replaceAll('`', ''), 280) },
      confirm: { type: 'plain_text', text: 'Continue' },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    },
  };
}

/** Dismiss asks once: it closes the incident and silences its alerts for a while (Undo reopens it). */
function dismissButton(id: string): Block {
  return {
    ...button(ACTION_IDS.dismiss, 'Dismiss', id),
    confirm: {
      title: { type: 'plain_text', text: 'Dismiss this incident?' },
      text: {
        type: 'mrkdwn',
        text: 'It leaves `/heal status` and alerts for this run are silenced for a while. Anyone who may dismiss can undo it.',
      },
      confirm: { type: 'plain_text', text: 'Dismiss' },
      deny: { type: 'plain_text', text: 'Keep open' },
    },
  };
}

function feedbackButtons(id: string, fb: ActionsState['feedback']): Block[] {
  const n = (k: number | undefined) => (k ? ` (${k})` : '');
  return [
    button(ACTION_IDS.feedbackUp, `:+1: Helpful${n(fb?.up)}`, id),
    button(ACTION_IDS.feedbackDown, `:-1: Wrong${n(fb?.down)}`, id),
  ];
}

/**
 * The thread parent's action area: Rerun (only where a rerun path exists, with a confirm dialog when the cause is
 * not transient), Approve fix, Dismiss and feedback; once someone reran or dismissed, those buttons give way
 * to who did what and when, and only feedback stays.
 */
export function actionBlocks(report: Report, state: Pick<ThreadState, 'actions' | 'rerunPath'>): Block[] {
  const id = report.id;
  const acts = state.actions ?? {};
  const path = state.rerunPath ?? rerunPathFor(report.target);
  const acted = Boolean(acts.rerun || acts.dismissed || (acts.fix && acts.fix.status !== 'error'));
  const elements: Block[] = [];
  if (!acted) {
    if (path.available) elements.push(rerunButton(report));
    // Only a validated, stored proposal sets remediation.fix (src/jobs/processor.ts): no proposal, no button.
    if (report.remediation.fix) elements.push(button(ACTION_IDS.approveFix, 'Approve fix', id));
    elements.push(dismissButton(id));
  }
  if (acts.dismissed && !acts.rerun && !acts.fix)
    elements.push(button(ACTION_IDS.undismiss, 'Undo dismiss', id));
  elements.push(...feedbackButtons(id, acts.feedback));
  const lines: string[] = [];
  if (acts.rerun) lines.push(rerunLine(acts.rerun));
  if (acts.fix) lines.push(fixLine(acts.fix));
  if (acts.dismissed) lines.push(dismissLine(acts.dismissed));
  if (!acted && !path.available)
    lines.push(`:information_source: No Rerun button: ${untrusted(path.why, 400)}`);
  const blocks: Block[] = [];
  if (lines.length) blocks.push(context(lines, 'heal_actions_done'));
  blocks.push({ type: 'actions', block_id: 'heal_actions', elements });
  return blocks;
}

/** Thread reply: what the dry run says a rerun would do (nothing changed yet). */
export function renderDryRun(items: string[], summary: string): SlackMessage {
  const shown = items.slice(0, 12).map((i) => `• \`${untrusted(i, 200)}\``);
  if (items.length > shown.length) shown.push(`_… and ${items.length - shown.length} more_`);
  const text = `:mag: *Dry run* (nothing changed yet): ${untrusted(summary, 600)}`;
  return fitMessage({
    text: untrusted(`Heal dry run: ${summary}`, 500),
    blocks: [section(shown.length ? `${text}\n${shown.join('\n')}` : text, 'heal_rerun_dry_run')],
  });
}

/** Thread reply: the rerun was sent to the platform. */
export function renderRerunStarted(by: string, summary: string): SlackMessage {
  const text = `:arrows_counterclockwise: *Rerun started* by ${mention(by)}: ${untrusted(summary, 800)}. Heal follows the new try and posts the outcome here.`;
  return fitMessage({
    text: untrusted(`Heal rerun started: ${summary}`, 500),
    blocks: [section(text, 'heal_rerun_started')],
  });
}

/** Thread reply: how the new try ended, or that Heal stopped following it. */
export function renderRerunOutcome(state: 'succeeded' | 'failed' | 'running', summary: string): SlackMessage {
  const head = {
    succeeded: ':white_check_mark: *The rerun succeeded*',
    failed: ':x: *The rerun failed again*',
    running: ':hourglass: *Still running*: Heal stopped following the rerun',
  }[state];
  const text = `${head}: ${untrusted(summary, 1500)}`;
  return fitMessage({
    text: untrusted(`Heal rerun: ${state}`, 200),
    blocks: [section(text, 'heal_rerun_outcome')],
  });
}

/** Thread reply: the rerun did not happen (the dry run or the platform refused); plain words, no stack. */
export function renderRerunError(message: string, changed: boolean): SlackMessage {
  const tail = changed ? 'Check the platform before trying again.' : 'Nothing was changed.';
  const text = `:warning: *The rerun did not happen:* ${plainError(message, 1200)}\n${tail}`;
  return fitMessage({ text: 'Heal: the rerun did not happen', blocks: [section(text, 'heal_rerun_error')] });
}
