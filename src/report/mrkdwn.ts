import { redact } from '../core/redact.ts';
import type { HypothesisStatus } from '../core/report.ts';
import type { Target } from '../core/target.ts';
import { clip, escapeMrkdwn, TRUNCATED_NOTE } from './limits.ts';

// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON is untyped here by design
export type Block = any;

/** Untrusted one-line or prose text (titles, summaries, error messages): redacted, escaped, clipped. */
export function untrusted(text: string, max = 2000): string {
  return clip(escapeMrkdwn(redact(text)), max, max >= 200 ? TRUNCATED_NOTE : '…');
}

/**
 * Untrusted multi-line text (log excerpts) as a mrkdwn code block: redacted again defensively, escaped,
 * with embedded ``` defanged so the excerpt cannot close the fence, clipped to `max` characters in total.
 */
export function codeBlock(text: string, max: number): string {
  const body = escapeMrkdwn(redact(text)).replaceAll('```', '`\u200b`\u200b`').trimEnd() || ' ';
  const inner = clip(body, Math.max(1, max - 8), '\n… [excerpt truncated]');
  return `\`\`\`\n${inner}\n\`\`\``;
}

/** A plain error for humans: first lines only, no stack frames, redacted. */
export function plainError(message: string, max = 500): string {
  const lines = message.split('\n').filter((l) => !/^\s+at\s/.test(l) && l.trim() !== '');
  return untrusted(lines.slice(0, 5).join('\n') || 'unknown error', max);
}

export const STATUS_EMOJI: Record<HypothesisStatus, string> = {
  confirmed: ':white_check_mark:',
  dismissed: ':heavy_multiplication_x:',
  inconclusive: ':grey_question:',
};

/** `E3, E5` or `none`; long lists end with `+N more`. */
export function cite(ids: string[], max = 12): string {
  if (ids.length === 0) return 'none';
  const shown = ids.slice(0, max).map((id) => escapeMrkdwn(clip(id, 20)));
  return ids.length > max ? `${shown.join(', ')} +${ids.length - max} more` : shown.join(', ');
}

/** The `heal investigate` / `/heal` argument for a target, in DESIGN.md §2 grammar. */
export function targetArg(t: Target): string {
  switch (t.platform) {
    case 'spark':
      return `spark ${t.appId}${t.attempt ? `/${t.attempt}` : ''}`;
    case 'airflow':
      return `airflow ${t.dagId} ${t.runId}${t.taskId ? ` ${t.taskId}` : ''}`;
    case 'dbt':
      return t.cloudRunId ? `dbt cloud ${t.cloudRunId}` : `dbt ${t.path ?? ''}`;
  }
}

/** A link when `ref` is a plain http(s) URL, otherwise the escaped reference in inline code. */
export function refLink(ref: string): string {
  const safe = redact(ref);
  if (/^https?:\/\/[^\s<>|`]+$/.test(safe) && safe.length < 1500)
    return `<${safe}|${escapeMrkdwn(clip(safe, 120))}>`;
  return `\`${escapeMrkdwn(clip(safe, 1500)).replaceAll('`', "'")}\``;
}

export function section(text: string, blockId?: string): Block {
  return { type: 'section', ...(blockId ? { block_id: blockId } : {}), text: { type: 'mrkdwn', text } };
}

export function context(texts: string[], blockId?: string): Block {
  return {
    type: 'context',
    ...(blockId ? { block_id: blockId } : {}),
    elements: texts.map((text) => ({ type: 'mrkdwn', text })),
  };
}

export function header(text: string, blockId = 'heal_header'): Block {
  return { type: 'header', block_id: blockId, text: { type: 'plain_text', text, emoji: true } };
}

export function divider(blockId?: string): Block {
  return { type: 'divider', ...(blockId ? { block_id: blockId } : {}) };
}

export function button(actionId: string, text: string, value: string, style?: 'primary' | 'danger'): Block {
  return {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text, emoji: true },
    value,
    ...(style ? { style } : {}),
  };
}
