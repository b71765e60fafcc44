import { describeTarget, GRAMMAR, type Target } from '../core/target.ts';
import { escapeMrkdwn, fitMessage } from './limits.ts';
import { button, codeBlock, context, section, untrusted } from './mrkdwn.ts';
import type { SlackMessage } from './types.ts';

const EXAMPLE = '/heal spark application_1700000000000_0042';

/** The ephemeral ack of `/heal <target>`: names the incident id (`inc_…`). */
export function renderAck(incidentId: string, target: Target): SlackMessage {
  const what = untrusted(describeTarget(target), 500);
  const text = `:mag: Investigating ${what} (${incidentId}). Updates will appear in a thread in this channel.`;
  return fitMessage({ text, blocks: [section(text, 'heal_ack')] });
}

/** `/heal help`: what Heal does and the target grammar (DESIGN.md §2). */
export function renderHelp(): SlackMessage {
  const intro =
    '*Heal* investigates a failed pipeline run: it pins the failing run, collects evidence from the ' +
    "platform's own APIs, weighs hypotheses and posts the root cause in a thread.";
  const usage = `*Usage:* \`/heal <target>\`\n${codeBlock(GRAMMAR, 1500)}`;
  const text = `Heal: /heal <target>\n${GRAMMAR}`;
  return fitMessage({
    text,
    blocks: [
      section(intro, 'heal_help_intro'),
      section(usage, 'heal_help_usage'),
      context(
        [
          `Example: \`${EXAMPLE}\` · \`/heal status\` open incidents · \`/heal history &lt;name&gt;\` past ones · \`/heal digest\` the last 7 days · \`/heal help\` this message`,
        ],
        'heal_help_example',
      ),
    ],
  });
}

/**
 * A specific, ephemeral error for a target that did not parse. `message` is the parser's message (it names
 * the word not understood and may end with `Usage:` and the grammar, which is shown as a code block).
 */
export function renderTargetError(message: string): SlackMessage {
  const [problem = message, usage] = message.split(/\nUsage:\n/);
  const lines = problem.split('\n').filter((l) => l.trim() !== '');
  const blocks = [section(`:warning: ${untrusted(lines.join('\n'), 1500)}`, 'heal_error')];
  blocks.push(
    section(`*Usage:* \`/heal <target>\`\n${codeBlock(usage ?? GRAMMAR, 1500)}`, 'heal_error_usage'),
  );
  if (!/Example:/.test(problem)) blocks.push(context([`Example: \`${EXAMPLE}\``], 'heal_error_example'));
  return fitMessage({ text: untrusted(`Heal: ${lines[0] ?? 'bad target'}`, 500), blocks });
}

/** A duplicate `/heal` for a run already under investigation: point at the existing thread. */
export function renderAlreadyRunning(incidentId: string, permalink?: string): SlackMessage {
  const link =
    permalink && /^https?:\/\/[^\s<>|]+$/.test(permalink)
      ? `<${permalink}|the existing thread>`
      : 'the existing thread in this channel';
  const text = `:eyes: This run is already being investigated (${escapeMrkdwn(incidentId)}): follow ${link}.`;
  return fitMessage({ text, blocks: [section(text, 'heal_already_running')] });
}

/** An ephemeral reply that is one section of (trusted, already escaped) mrkdwn. */
function note(text: string, blockId: string, fallback: string): SlackMessage {
  return fitMessage({ text: fallback, blocks: [section(text, blockId)] });
}

/** Someone not in HEAL_APPROVERS clicked Rerun (or Approve): refused, and the attempt is audited. */
export function renderRefusal(what: 'rerun' | 'approve', approversConfigured: boolean): SlackMessage {
  const verb = what === 'rerun' ? 'rerun pipelines' : 'approve fixes';
  const who = approversConfigured
    ? `Only Heal approvers (\`HEAL_APPROVERS\`) can ${verb}.`
    : `No approvers are configured (\`HEAL_APPROVERS\` is empty), so nobody can ${verb} from Slack.`;
  return note(
    `:no_entry: ${who} Nothing was changed; your click was recorded in the audit log.`,
    'heal_refused',
    `Heal: only approvers can ${verb}`,
  );
}

/** A Dismiss / Undo click by someone HEAL_DISMISSERS does not allow. */
export function renderDismissRefusal(approversConfigured: boolean): SlackMessage {
  const who = approversConfigured
    ? 'Only Heal approvers (`HEAL_APPROVERS`) can dismiss incidents here (`HEAL_DISMISSERS=approvers`).'
    : 'No approvers are configured (`HEAL_APPROVERS` is empty), so nobody can dismiss incidents from Slack (set `HEAL_DISMISSERS=channel` to let the channel do it).';
  return note(
    `:no_entry: ${who} Nothing was changed; your click was recorded in the audit log.`,
    'heal_refused',
    'Heal: you cannot dismiss this incident',
  );
}

/** A button whose incident does not belong to the message or channel it was clicked in. */
export function renderWrongOrigin(): SlackMessage {
  return note(
    ':no_entry: This button does not belong to this incident thread, so Heal did nothing. Your click was recorded in the audit log.',
    'heal_refused',
    'Heal: button not from this incident',
  );
}

/** A rerun asked for before the evidence snapshot is stored (DESIGN.md §6.1). */
export function renderNotReady(incidentId: string): SlackMessage {
  return note(
    `:hourglass_flowing_sand: ${escapeMrkdwn(incidentId)} is still being investigated: Heal reruns only after the evidence is stored. Try again once the diagnosis is posted.`,
    'heal_not_ready',
    'Heal: the evidence is not stored yet',
  );
}

/** A second rerun / dismiss on an incident someone already acted on. */
export function renderAlreadyActed(line: string): SlackMessage {
  return note(`:information_source: Already handled: ${line}`, 'heal_already_acted', 'Heal: already handled');
}

/** No rerun path exists for this target (a Spark app without a known launcher, a local dbt dir). */
export function renderNoRerunPath(why: string): SlackMessage {
  return note(
    `:no_entry_sign: Heal cannot rerun this: ${untrusted(why, 600)}`,
    'heal_no_rerun',
    'Heal: no rerun',
  );
}

/**
 * The cause is not transient: ask before rerunning. "Rerun anyway" (`heal_rerun_confirm`) carries the incident
 * id; the approver check runs again on that click.
 */
export function renderRerunConfirm(incidentId: string, warning: string, what: string): SlackMessage {
  const text = `:warning: ${untrusted(warning, 600)}\nRerun would ${untrusted(what, 300)}. Rerun anyway?`;
  return fitMessage({
    text: 'Heal: a rerun will likely fail again. Rerun anyway?',
    blocks: [
      section(text, 'heal_rerun_confirm'),
      {
        type: 'actions',
        block_id: 'heal_rerun_confirm_actions',
        elements: [button('heal_rerun_confirm', 'Rerun anyway', incidentId, 'danger')],
      },
    ],
  });
}

/** Thanks for 👍/👎 (recorded per incident for the outcome log). */
export function renderFeedbackThanks(up: boolean): SlackMessage {
  const text = up
    ? ':+1: Thanks: recorded that this diagnosis helped.'
    : ':-1: Thanks: recorded that this diagnosis was wrong. Say what it really was in the thread, it helps.';
  return note(text, 'heal_feedback_thanks', 'Heal: feedback recorded');
}
