/**
 * A pure Block Kit → HTML renderer: shows Slack threads (messages with their mrkdwn text and blocks) as a
 * self-contained HTML page that reads like Slack. Every piece of text is HTML-escaped; only http(s) and
 * mailto links become anchors. Used by `heal demo` to show its threads without a Slack workspace.
 */

/** One message of a thread as it would read in Slack. */
export interface HtmlMessage {
  author: string;
  /** Slack ts (`seconds.micros`); shown as a time of day (UTC). */
  ts: string;
  /** Fallback text; rendered as mrkdwn when there are no blocks. */
  text: string;
  blocks: unknown[];
}

/** A thread: the top-level message first, then its replies. */
export interface HtmlThread {
  channel: string;
  title: string;
  messages: HtmlMessage[];
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const EMOJI: Record<string, string> = {
  dart: '🎯',
  x: '❌',
  warning: '⚠️',
  wrench: '🔧',
  mag: '🔍',
  pushpin: '📌',
  white_check_mark: '✅',
  hourglass_flowing_sand: '⏳',
  white_small_square: '▫️',
  grey_question: '❔',
  red_circle: '🔴',
  rotating_light: '🚨',
  heavy_check_mark: '✔️',
  no_entry_sign: '🚫',
  thumbsup: '👍',
  thumbsdown: '👎',
  '+1': '👍',
  '-1': '👎',
  large_green_circle: '🟢',
  large_yellow_circle: '🟡',
  black_circle: '⚫',
  bulb: '💡',
  link: '🔗',
  page_facing_up: '📄',
  repeat: '🔁',
  memo: '📝',
};

/** Replaces the Slack emoji shortcodes Heal uses (`:dart:`) with the emoji; unknown ones stay as written. */
export const emoji = (s: string) => s.replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m);

const unescapeSlack = (s: string) =>
  s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

function linkHtml(inner: string): string {
  const [target = '', label] = inner.split('|', 2);
  const text = (l: string) => escapeHtml(unescapeSlack(l));
  if (target.startsWith('@')) return `<span class="mention">@${text(label ?? target.slice(1))}</span>`;
  if (target.startsWith('#')) return `<span class="mention">#${text(label ?? target.slice(1))}</span>`;
  if (target.startsWith('!')) return `<span class="mention">@${text(label ?? target.slice(1))}</span>`;
  const url = unescapeSlack(target);
  if (!/^(https?:|mailto:)/i.test(url)) return text(label ?? target);
  return `<a href="${escapeHtml(url)}" rel="noopener noreferrer">${text(label ?? target)}</a>`;
}

/** Slack mrkdwn (already Slack-escaped, as Heal renders it) → HTML. */
export function mrkdwnToHtml(src: string): string {
  const saved: string[] = [];
  const keep = (html: string) => `\uE000${saved.push(html) - 1}\uE000`;
  let s = src.replaceAll('\uE000', '');
  s = s.replace(/```([\s\S]*?)```/g, (_m, code: string) =>
    keep(`<pre>${escapeHtml(unescapeSlack(code.replace(/^\n/, '')))}</pre>`),
  );
  s = s.replace(/`([^`\n]+)`/g, (_m, code: string) =>
    keep(`<code>${escapeHtml(unescapeSlack(code))}</code>`),
  );
  s = s.replace(/<([^<>\n]+)>/g, (_m, inner: string) => keep(linkHtml(inner)));
  s = escapeHtml(unescapeSlack(s));
  const wrap = (mark: string) =>
    new RegExp(`(^|[\\s(\\uE000])\\${mark}([^\\${mark}\\n]+)\\${mark}(?=$|[\\s).,:;!?\\uE000])`, 'g');
  s = s.replace(wrap('*'), '$1<strong>$2</strong>');
  s = s.replace(wrap('_'), '$1<em>$2</em>');
  s = s.replace(wrap('~'), '$1<s>$2</s>');
  s = emoji(s).replaceAll('\n', '<br>');
  return s.replace(/\uE000(\d+)\uE000/g, (_m, i: string) => saved[Number(i)] ?? '');
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** A Block Kit text object (`plain_text` or `mrkdwn`) → HTML. */
function textObj(t: unknown): string {
  if (!isObj(t)) return '';
  if (t.type === 'mrkdwn') return mrkdwnToHtml(str(t.text));
  const plain = escapeHtml(str(t.text)).replaceAll('\n', '<br>');
  return t.emoji === false ? plain : emoji(plain);
}

function button(el: Obj): string {
  const style = el.style === 'primary' || el.style === 'danger' ? ` btn-${el.style}` : '';
  const url = str(el.url);
  if (url && /^https?:/i.test(url))
    return `<a class="btn${style}" href="${escapeHtml(url)}" rel="noopener noreferrer">${textObj(el.text)}</a>`;
  return `<span class="btn${style}">${textObj(el.text)}</span>`;
}

function element(el: unknown): string {
  if (!isObj(el)) return '';
  if (el.type === 'button') return button(el);
  if (el.type === 'image')
    return `<span class="img" title="${escapeHtml(str(el.alt_text))}">[${escapeHtml(str(el.alt_text) || 'image')}]</span>`;
  if (el.type === 'plain_text' || el.type === 'mrkdwn') return `<span>${textObj(el)}</span>`;
  const label = isObj(el.placeholder) ? textObj(el.placeholder) : escapeHtml(str(el.type));
  return `<span class="btn">${label} ▾</span>`;
}

function section(b: Obj): string {
  const parts: string[] = [];
  if (b.text) parts.push(`<div class="text">${textObj(b.text)}</div>`);
  if (Array.isArray(b.fields))
    parts.push(`<div class="fields">${b.fields.map((f) => `<div>${textObj(f)}</div>`).join('')}</div>`);
  if (b.accessory) parts.push(`<div class="accessory">${element(b.accessory)}</div>`);
  return `<div class="block section">${parts.join('')}</div>`;
}

/** One Block Kit block → HTML (unknown block types are named, not dropped silently). */
export function blockToHtml(block: unknown): string {
  if (!isObj(block)) return '';
  const id = str(block.block_id) ? ` data-block-id="${escapeHtml(str(block.block_id))}"` : '';
  const open = (cls: string) => `<div class="block ${cls}"${id}>`;
  switch (block.type) {
    case 'header':
      return `${open('header')}${textObj(block.text)}</div>`;
    case 'section':
      return section(block).replace('<div class="block section">', open('section'));
    case 'context':
      return `${open('context')}${(Array.isArray(block.elements) ? block.elements : []).map(element).join(' ')}</div>`;
    case 'divider':
      return `${open('divider')}<hr></div>`;
    case 'actions':
      return `${open('actions')}${(Array.isArray(block.elements) ? block.elements : []).map(element).join('')}</div>`;
    case 'image':
      return `${open('image')}${element(block)}</div>`;
    default:
      return `${open('unknown')}[${escapeHtml(str(block.type) || 'block')}]</div>`;
  }
}

function timeOf(ts: string): string {
  const secs = Number(ts.split('.')[0]);
  return Number.isFinite(secs) && secs > 0 ? new Date(secs * 1000).toISOString().slice(11, 16) : '';
}

/** One message: author, time, and its blocks (or its text as mrkdwn when it has none). */
export function messageToHtml(m: HtmlMessage, reply: boolean): string {
  const body = m.blocks.length
    ? m.blocks.map(blockToHtml).join('\n')
    : `<div class="text">${mrkdwnToHtml(m.text)}</div>`;
  const initial = escapeHtml((m.author.trim()[0] ?? '?').toUpperCase());
  return [
    `<div class="message${reply ? ' reply' : ''}" data-ts="${escapeHtml(m.ts)}">`,
    `<div class="avatar">${initial}</div><div class="content">`,
    `<div class="meta"><span class="author">${escapeHtml(m.author)}</span> <span class="time">${timeOf(m.ts)}</span></div>`,
    body,
    '</div></div>',
  ].join('\n');
}

function threadToHtml(t: HtmlThread, i: number): string {
  const [parent, ...replies] = t.messages;
  const count = replies.length
    ? `<div class="replies">${replies.length} repl${replies.length === 1 ? 'y' : 'ies'}</div>`
    : '';
  return [
    `<section class="thread" id="thread-${i + 1}">`,
    `<h2><span class="channel">#${escapeHtml(t.channel)}</span> ${escapeHtml(t.title)}</h2>`,
    parent ? messageToHtml(parent, false) : '',
    count,
    ...replies.map((m) => messageToHtml(m, true)),
    '</section>',
  ].join('\n');
}

const CSS = `body{font:15px/1.46 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;background:#f8f8f8;color:#1d1c1d;margin:0;padding:24px}
main{max-width:920px;margin:0 auto}h1{font-size:22px}.thread{background:#fff;border:1px solid #ddd;border-radius:8px;margin:0 0 28px;padding:12px 16px}
.thread h2{font-size:15px;margin:0 0 8px;color:#616061}.channel{font-weight:700;color:#1d1c1d}.message{display:flex;gap:10px;padding:8px 0}
.message.reply{margin-left:46px;border-left:3px solid #e8e8e8;padding-left:12px}.avatar{flex:0 0 36px;height:36px;border-radius:6px;background:#4a154b;color:#fff;display:flex;align-items:center;justify-content:center;font-weight:700}
.content{flex:1;min-width:0}.author{font-weight:900}.time{color:#616061;font-size:12px}.block{margin:4px 0}.header{font-size:18px;font-weight:900}
.context{color:#616061;font-size:13px}.fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px}.divider hr{border:0;border-top:1px solid #ddd}
code{font:12px Monaco,Menlo,monospace;background:#f6f6f6;border:1px solid #ddd;border-radius:3px;padding:0 3px;color:#c01343}
pre{font:12px Monaco,Menlo,monospace;background:#f6f6f6;border:1px solid #ddd;border-radius:4px;padding:8px;white-space:pre-wrap;overflow-wrap:anywhere}
.btn{display:inline-block;border:1px solid #bbb;border-radius:4px;padding:3px 12px;margin:4px 8px 0 0;font-weight:700;font-size:13px;color:#1d1c1d;text-decoration:none}
.btn-primary{background:#007a5a;border-color:#007a5a;color:#fff}.btn-danger{color:#e01e5a;border-color:#e01e5a}.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}
.replies{color:#1264a3;font-size:13px;font-weight:700;margin:2px 0 4px 46px}a{color:#1264a3}.unknown{color:#999}`;

/** A complete, self-contained HTML page showing `threads` as they would read in Slack. */
export function renderThreadsPage(title: string, threads: HtmlThread[], intro = ''): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style></head><body><main>`,
    `<h1>${escapeHtml(title)}</h1>`,
    intro ? `<p class="intro">${escapeHtml(intro)}</p>` : '',
    ...threads.map(threadToHtml),
    '</main></body></html>',
  ].join('\n');
}
