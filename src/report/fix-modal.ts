/**
 * The approve-fix modal (pure): what will be committed (the fix diff and the prevention test), why, and a
 * determinism table (data ref pinned? code SHA pinned?), within Slack's modal limits. Submitting it is the
 * approval; the listener enqueues the `fix` job (src/jobs/fix.ts) with the proposal.
 */
import { redact } from '../core/redact.ts';
import type { FixProposal } from '../diagnosis/fix.ts';
import { clip, escapeMrkdwn } from './limits.ts';

/** callback_id of the modal's view_submission. */
export const FIX_MODAL_CALLBACK = 'heal_fix_submit';

/** Slack modal limits (https://docs.slack.dev/reference/views/modal-views). */
export const MODAL_LIMITS = {
  blocks: 100,
  titleText: 24,
  buttonText: 24,
  privateMetadata: 3000,
  sectionText: 3000,
  fieldText: 2000,
  headerText: 150,
  contextText: 2000,
} as const;

/** What the submission handler reads back from `private_metadata`. */
export interface FixModalMetadata {
  incidentId: string;
  /** fixJobId(proposal): the job the submission enqueues, and a check that the proposal did not change. */
  jobId: string;
  channel?: string;
  threadTs?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: Block Kit views are plain JSON, checked by tests against the limits
export type ModalView = Record<string, any>;

const plain = (text: string, max: number) => ({ type: 'plain_text', text: clip(text, max), emoji: false });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });

/** A diff as a code block: redacted (context lines are repo text), escaped, fences neutralised, clipped. */
function diffBlock(label: string, diff: string): object {
  const body = escapeMrkdwn(redact(diff).replaceAll('```', "'''"));
  const head = `${label}\n\`\`\`\n`;
  const note = '\n… (cut here: the full diff is in the pull request)\n```';
  const room = MODAL_LIMITS.sectionText - head.length - 4;
  if (body.length <= room) return { type: 'section', text: mrkdwn(`${head}${body}\n\`\`\``) };
  const cut = clip(body, room - note.length, '');
  return {
    type: 'section',
    text: mrkdwn(`${head}${cut.slice(0, Math.max(cut.lastIndexOf('\n'), 0))}${note}`),
  };
}

function determinism(p: FixProposal): object {
  const sha = p.baseSha.slice(0, 12);
  const code = p.codePinned
    ? `*Code SHA pinned?*\nYes: \`${sha}\`, the failing run’s commit`
    : `*Code SHA pinned?*\nNo: the run did not report its commit; base is \`${escapeMrkdwn(p.defaultBranch)}\` now (\`${sha}\`)`;
  const data = p.dataPinned
    ? `*Data ref pinned?*\nYes: \`${escapeMrkdwn(clip(p.dataRef ?? '', 200))}\``
    : '*Data ref pinned?*\nNo: the failing input cannot be replayed exactly';
  return {
    type: 'section',
    fields: [
      mrkdwn(clip(data, MODAL_LIMITS.fieldText)),
      mrkdwn(clip(code, MODAL_LIMITS.fieldText)),
      mrkdwn(clip(`*Run*\n\`${escapeMrkdwn(p.runId)}\``, MODAL_LIMITS.fieldText)),
      mrkdwn(
        clip(`*Repository*\n${escapeMrkdwn(p.repo)} → \`heal/${p.incidentId}\``, MODAL_LIMITS.fieldText),
      ),
    ],
  };
}

/** Renders the modal for one proposal; `meta` becomes private_metadata (kept under 3,000 chars). */
export function renderFixModal(p: FixProposal, meta: FixModalMetadata): ModalView {
  const source =
    p.source === 'template' ? `template \`${escapeMrkdwn(p.template)}\`` : 'proposed by Claude, validated';
  const blocks: object[] = [
    { type: 'header', text: plain(p.title, MODAL_LIMITS.headerText) },
    { type: 'section', text: mrkdwn(clip(escapeMrkdwn(p.explain), MODAL_LIMITS.sectionText)) },
    determinism(p),
    { type: 'divider' },
    diffBlock(`*Fix* (${source}) · ${escapeMrkdwn(p.fix.files.join(', '))}`, p.fix.diff),
  ];
  if (p.prevention)
    blocks.push(
      {
        type: 'section',
        text: mrkdwn(
          clip(
            `*Prevention test:* ${escapeMrkdwn(p.prevention.title)}\n${escapeMrkdwn(p.prevention.why)}`,
            MODAL_LIMITS.sectionText,
          ),
        ),
      },
      diffBlock(`*Test* · ${escapeMrkdwn(p.prevention.files.join(', '))}`, p.prevention.diff),
    );
  else blocks.push({ type: 'context', elements: [mrkdwn('No prevention test comes with this fix.')] });
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(
        clip(
          `On submit Heal creates \`heal/${p.incidentId}\` from \`${p.baseSha.slice(0, 12)}\`, commits the fix${p.prevention ? ' and the test separately' : ''}, pushes and opens a pull request against \`${escapeMrkdwn(p.defaultBranch)}\`. It never pushes to or merges into ${escapeMrkdwn(p.defaultBranch)}.`,
          MODAL_LIMITS.contextText,
        ),
      ),
    ],
  });
  return {
    type: 'modal',
    callback_id: FIX_MODAL_CALLBACK,
    private_metadata: JSON.stringify(meta).slice(0, MODAL_LIMITS.privateMetadata),
    title: plain('Approve fix', MODAL_LIMITS.titleText),
    submit: plain('Open pull request', MODAL_LIMITS.buttonText),
    close: plain('Cancel', MODAL_LIMITS.buttonText),
    blocks: blocks.slice(0, MODAL_LIMITS.blocks),
  };
}

/** Problems with a view against the modal limits (empty when it fits). */
export function validateModal(view: ModalView): string[] {
  const problems: string[] = [];
  const blocks = (view.blocks ?? []) as ModalView[];
  if (blocks.length > MODAL_LIMITS.blocks) problems.push(`${blocks.length} blocks`);
  if ((view.title?.text ?? '').length > MODAL_LIMITS.titleText) problems.push('title too long');
  if ((view.private_metadata ?? '').length > MODAL_LIMITS.privateMetadata)
    problems.push('private_metadata too long');
  for (const [i, b] of blocks.entries()) {
    if (
      b.text?.text &&
      b.text.text.length > (b.type === 'header' ? MODAL_LIMITS.headerText : MODAL_LIMITS.sectionText)
    )
      problems.push(`block ${i} text too long`);
    for (const f of b.fields ?? [])
      if (f.text.length > MODAL_LIMITS.fieldText) problems.push(`block ${i} field too long`);
    for (const e of b.elements ?? [])
      if ((e.text ?? '').length > MODAL_LIMITS.contextText) problems.push(`block ${i} element too long`);
  }
  return problems;
}
