import type { Evidence, Report } from '../core/report.ts';
import { escapeMrkdwn, fitMessage } from './limits.ts';
import { type Block, codeBlock, context, refLink, section, targetArg, untrusted } from './mrkdwn.ts';
import type { SlackMessage } from './types.ts';

/** Evidence items per threaded reply (2 blocks each). */
export const ITEMS_PER_REPLY = 6;
/** Evidence items shown in the thread at most; the rest are counted in a visible note. */
export const MAX_EVIDENCE_SHOWN = 24;
/** Characters of one excerpt, code fence included (a section holds 3000 with the title). */
const EXCERPT_CHARS = 1800;
const DIFF_CHARS = 2800;

/**
 * Which evidence goes in the thread, in report order: the root cause's evidence first, then what the
 * hypotheses cite (most likely first), then the rest, up to the cap.
 */
export function selectEvidence(report: Report, max = MAX_EVIDENCE_SHOWN): Evidence[] {
  const ranked = [...report.hypotheses].sort((a, b) => b.likelihood - a.likelihood);
  const order = [
    ...(report.rootCause?.evidence ?? []),
    ...ranked.flatMap((h) => [...h.evidenceFor, ...h.evidenceAgainst]),
    ...report.evidence.map((e) => e.id),
  ];
  const known = new Set(report.evidence.map((e) => e.id));
  const picked = new Set<string>();
  for (const id of order) {
    if (picked.size >= max) break;
    if (known.has(id)) picked.add(id);
  }
  return report.evidence.filter((e) => picked.has(e.id));
}

function evidenceBlocks(e: Evidence, n: number): Block[] {
  const title = `*${escapeMrkdwn(e.id)} · ${untrusted(e.source, 80)} · ${untrusted(e.title, 300)}*`;
  const body = e.excerpt.trim() ? `\n${codeBlock(e.excerpt, EXCERPT_CHARS)}` : '';
  return [section(`${title}${body}`, `heal_ev_${n}`), context([`ref ${refLink(e.ref)}`], `heal_ev_${n}_ref`)];
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function fixReply(report: Report): SlackMessage | undefined {
  const fix = report.remediation.fix;
  if (!fix) return undefined;
  const files = fix.files.map((f) => `\`${untrusted(f, 200)}\``).join(', ') || 'no files';
  return fitMessage({
    text: `Proposed fix for ${report.id}`,
    blocks: [
      section(`:wrench: *Proposed fix* (${files}), applied only after *Approve fix*`, 'heal_fix_title'),
      section(codeBlock(fix.diff, DIFF_CHARS), 'heal_fix_diff'),
    ],
  });
}

/**
 * The report's evidence as threaded replies: several items per message, each titled `E3 · spark.stage · …`
 * with its excerpt in a code block and its reference; at most {@link MAX_EVIDENCE_SHOWN} items (cited ones
 * first), the rest counted in a visible note. A proposed fix's diff follows as its own reply.
 */
export function renderEvidenceReplies(report: Report): SlackMessage[] {
  const shown = selectEvidence(report);
  const omitted = report.evidence.length - shown.length;
  const groups = chunk(shown, ITEMS_PER_REPLY);
  const replies = groups.map((group, g) => {
    const blocks: Block[] = [];
    if (g === 0)
      blocks.push(
        section(`:card_index_dividers: *Evidence* (${report.evidence.length} items)`, 'heal_ev_head'),
      );
    group.forEach((e, i) => {
      blocks.push(...evidenceBlocks(e, g * ITEMS_PER_REPLY + i + 1));
    });
    if (g === groups.length - 1 && omitted > 0) {
      const cmd = `heal investigate ${escapeMrkdwn(targetArg(report.target))} --json`;
      blocks.push(
        context([`_… truncated, ${omitted} more evidence items in the report (\`${cmd}\`)_`], 'heal_ev_more'),
      );
    }
    const ids = `${group[0]?.id ?? ''}–${group[group.length - 1]?.id ?? ''}`;
    return fitMessage({ text: `Evidence ${ids} for ${report.id}`, blocks });
  });
  const fix = fixReply(report);
  return fix ? [...replies, fix] : replies;
}
