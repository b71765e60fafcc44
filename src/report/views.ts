import { describeTarget } from '../core/target.ts';
import { mention, when } from './actions.ts';
import { categoryLine } from './blocks.ts';
import { escapeMrkdwn, fitMessage } from './limits.ts';
import { type Block, context, divider, header, section, untrusted } from './mrkdwn.ts';
import type { IncidentSummary, SlackMessage } from './types.ts';

/** Incidents listed in one view; the rest are counted. */
export const MAX_LISTED = 20;

function link(s: IncidentSummary): string {
  const id = `\`${escapeMrkdwn(s.incidentId)}\``;
  return s.permalink && /^https?:\/\/[^\s<>|]+$/.test(s.permalink) ? `<${s.permalink}|${s.incidentId}>` : id;
}

function causeOf(s: IncidentSummary): string {
  if (s.rootCause)
    return `${categoryLine(s.rootCause.category, s.rootCause.confidence)} · ${untrusted(s.rootCause.culprit, 200)}`;
  if (s.abstained) return 'no root cause named (abstained)';
  if (s.checkpoint === 'failed') return 'investigation failed';
  return `investigating (${escapeMrkdwn(s.checkpoint)})`;
}

function stateOf(s: IncidentSummary): string {
  const a = s.actions;
  if (a?.dismissed) return ` · dismissed by ${mention(a.dismissed.by)}`;
  if (a?.rerun) return ` · rerun ${a.rerun.status} (${mention(a.rerun.by)})`;
  return '';
}

/** A diagnosed incident whose thread Slack keeps refusing: the report is stored, publishing is retried. */
function waitOf(s: IncidentSummary): string {
  const w = s.waitingForSlack;
  if (!w) return '';
  const tries = `${w.attempts} ${w.attempts === 1 ? 'try' : 'tries'}`;
  return `\n   :hourglass_flowing_sand: waiting for Slack since ${when(w.since)} (${tries}, next ${when(w.nextAt)}): the diagnosis is stored and its thread is posted once Slack answers`;
}

/** One incident as a list line: link, what ran, when, the root cause (or where it stands) and actions. */
export function incidentLine(s: IncidentSummary): string {
  const what = untrusted(describeTarget(s.target), 300);
  return `• ${link(s)} · ${what} · ${when(s.createdAt)}\n   ${causeOf(s)}${stateOf(s)}${waitOf(s)}`;
}

function listBlocks(list: IncidentSummary[], empty: string, blockPrefix: string): Block[] {
  if (list.length === 0) return [section(empty, `${blockPrefix}_empty`)];
  const shown = list.slice(0, MAX_LISTED);
  const blocks: Block[] = [];
  for (let i = 0; i < shown.length; i += 5)
    blocks.push(
      section(
        shown
          .slice(i, i + 5)
          .map(incidentLine)
          .join('\n'),
        `${blockPrefix}_${i / 5 + 1}`,
      ),
    );
  const more = list.length - shown.length;
  if (more > 0) blocks.push(context([`_… and ${more} more_`], `${blockPrefix}_more`));
  return blocks;
}

/**
 * `/heal status`: open incidents (not dismissed, no successful rerun), newest first. `unreadable`: listed
 * incidents whose stored record does not parse (Redis lost data), said instead of silently dropped.
 */
export function renderStatus(open: IncidentSummary[], opts: { unreadable?: number } = {}): SlackMessage {
  const head = `*Open incidents* (${open.length})`;
  const n = opts.unreadable ?? 0;
  const lost = n
    ? [
        context(
          [
            `:warning: ${n} incident record${n === 1 ? '' : 's'} could not be read (Heal's store lost data?): ${n === 1 ? 'it is' : 'they are'} not listed. Asking again with \`/heal <target>\` starts afresh.`,
          ],
          'heal_status_unreadable',
        ),
      ]
    : [];
  return fitMessage({
    text: `Heal: ${open.length} open incident${open.length === 1 ? '' : 's'}${n ? `, ${n} unreadable` : ''}`,
    blocks: [
      section(head, 'heal_status_head'),
      ...listBlocks(open, ':sunny: No open incidents.', 'heal_status_list'),
      ...lost,
    ],
  });
}

/** `/heal history <dag|model|app>`: past incidents of that name with their root causes. */
export function renderHistory(name: string, past: IncidentSummary[]): SlackMessage {
  const who = `\`${untrusted(name, 200)}\``;
  return fitMessage({
    text: untrusted(`Heal: ${past.length} past incidents of ${name}`, 300),
    blocks: [
      section(`*Incidents of ${who}* (${past.length})`, 'heal_history_head'),
      ...listBlocks(past, `No incidents of ${who} on record.`, 'heal_history_list'),
    ],
  });
}

/** `/heal history` without a name. */
export function renderHistoryUsage(): SlackMessage {
  const text =
    '*Usage:* `/heal history <dag|model|app>`, e.g. `/heal history revenue_daily`: past incidents with their root causes.';
  return fitMessage({ text: 'Heal: /heal history <name>', blocks: [section(text, 'heal_history_usage')] });
}

/** The App Home tab (views.publish): recent incidents, open ones first. */
export function renderHome(
  open: IncidentSummary[],
  recent: IncidentSummary[],
): { type: 'home'; blocks: Block[] } {
  const blocks: Block[] = [
    header('Heal · incidents', 'heal_home_header'),
    context(['`/heal <target>` investigates · `/heal status` · `/heal history <name>`'], 'heal_home_help'),
    section(`*Open* (${open.length})`, 'heal_home_open_head'),
    ...listBlocks(open, ':sunny: No open incidents.', 'heal_home_open'),
    divider('heal_home_div'),
    section(`*Recent* (${recent.length})`, 'heal_home_recent_head'),
    ...listBlocks(recent, 'No incidents yet.', 'heal_home_recent'),
  ];
  return { type: 'home', blocks };
}
