/** Slack threads as plain terminal text: Block Kit blocks → lines, mrkdwn → readable text. */
import { emoji, type HtmlThread } from '../report/html.ts';

/** Lines of one reply shown in the terminal; the HTML page has them all. */
const MAX_REPLY_LINES = 14;

const unescapeSlack = (s: string) =>
  s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

/** mrkdwn → plain text: links as `label (url)`, bold/italic/code marks dropped, entities decoded. */
export function mrkdwnToText(s: string): string {
  const linked = s.replace(/<([^<>\n]+)>/g, (_m, inner: string) => {
    const [target = '', label] = inner.split('|', 2);
    if (/^[@#!]/.test(target)) return `${target[0] === '#' ? '#' : '@'}${label ?? target.slice(1)}`;
    return label && label !== target ? `${label} (${target})` : target;
  });
  return unescapeSlack(
    linked
      .replace(/```\n?([\s\S]*?)```/g, '$1')
      .replace(/`([^`\n]+)`/g, '$1')
      .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/gm, '$1$2')
      .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/gm, '$1$2'),
  );
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function textOf(t: unknown): string {
  if (!isObj(t) || typeof t.text !== 'string') return '';
  return t.type === 'mrkdwn' ? mrkdwnToText(t.text) : t.text;
}

function elementText(el: unknown): string {
  if (!isObj(el)) return '';
  if (el.type === 'button') return `[ ${textOf(el.text)} ]`;
  if (el.type === 'image') return `[${String(el.alt_text ?? 'image')}]`;
  return textOf(el);
}

/** One block → lines of text. */
export function blockLines(block: unknown): string[] {
  if (!isObj(block)) return [];
  const elements = Array.isArray(block.elements) ? block.elements : [];
  switch (block.type) {
    case 'header':
      return [`▌ ${textOf(block.text)}`];
    case 'section': {
      const lines = textOf(block.text).split('\n');
      if (Array.isArray(block.fields)) lines.push(...block.fields.map(textOf));
      return lines;
    }
    case 'context':
      return [elements.map(elementText).join('  ')];
    case 'actions':
      return [elements.map(elementText).join(' ')];
    case 'divider':
      return ['─'.repeat(40)];
    default:
      return [`[${String(block.type)}]`];
  }
}

/** A thread as terminal text: the parent flush left, replies indented under a bar. */
export function threadToText(t: HtmlThread): string {
  const out = [`━━ #${t.channel} · ${t.title}`];
  t.messages.forEach((m, i) => {
    const pad = i === 0 ? '' : '  │ ';
    let body = m.blocks.length ? m.blocks.flatMap(blockLines) : mrkdwnToText(m.text).split('\n');
    body = body.filter((l) => l.trim() !== '');
    if (i > 0 && body.length > MAX_REPLY_LINES + 1)
      body = [
        ...body.slice(0, MAX_REPLY_LINES),
        `… ${body.length - MAX_REPLY_LINES} more lines (see the HTML page)`,
      ];
    out.push(`${pad}${m.author}:`);
    for (const line of body) out.push(`${pad}  ${emoji(line)}`);
    if (i === 0 && t.messages.length > 1) out.push(`  └ ${t.messages.length - 1} replies`);
  });
  return out.join('\n');
}
