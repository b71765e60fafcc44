import type { SlackMessage } from './types.ts';

/** Slack Block Kit limits (https://docs.slack.dev/reference/block-kit) that Heal's messages must respect. */
export const LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 2000,
  actionsElements: 25,
  buttonText: 75,
  actionId: 255,
  buttonValue: 2000,
  buttonUrl: 3000,
  blockId: 255,
  /** Slack's hard limit on top-level `text`. */
  messageText: 40000,
  /** What Heal keeps the fallback `text` under: long notifications help nobody. */
  fallbackText: 3000,
} as const;

const KNOWN_BLOCKS = new Set(['header', 'section', 'context', 'actions', 'divider', 'image', 'rich_text']);

/** Escapes Slack mrkdwn control characters (`&`, `<`, `>`) in untrusted text. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * Cuts `text` to at most `max` characters, ending with `note` (default `…`). Never splits an `&amp;`-style
 * entity, and re-closes a ``` code fence the cut left open.
 */
export function clip(text: string, max: number, note = '…'): string {
  if (text.length <= max) return text;
  const closer = '\n```';
  let budget = Math.max(0, max - note.length - closer.length);
  let cut = text.slice(0, budget);
  const entity = cut.match(/&[a-z]{0,4}$/);
  if (entity) {
    budget -= entity[0].length;
    cut = cut.slice(0, budget);
  }
  const fences = cut.split('```').length - 1;
  if (fences % 2 === 1) return `${cut}${closer}${note}`.slice(0, max);
  return `${cut}${note}`.slice(0, max);
}

// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON is untyped here by design
type Block = any;

function textOf(obj: Block): string | undefined {
  return typeof obj?.text === 'string' ? obj.text : undefined;
}

function checkHeader(b: Block, at: string): string[] {
  const t = textOf(b.text);
  const out: string[] = [];
  if (b.text?.type !== 'plain_text') out.push(`${at}: header text must be plain_text`);
  if (!t) out.push(`${at}: header text is empty`);
  else if (t.length > LIMITS.headerText) out.push(`${at}: header text ${t.length} > ${LIMITS.headerText}`);
  return out;
}

function checkSection(b: Block, at: string): string[] {
  const out: string[] = [];
  const t = textOf(b.text);
  const fields: Block[] | undefined = Array.isArray(b.fields) ? b.fields : undefined;
  if (t === undefined && !fields?.length) out.push(`${at}: section has neither text nor fields`);
  if (b.text !== undefined && !t) out.push(`${at}: section text is empty`);
  if (t && t.length > LIMITS.sectionText) out.push(`${at}: section text ${t.length} > ${LIMITS.sectionText}`);
  if (fields && fields.length > LIMITS.sectionFields)
    out.push(`${at}: ${fields.length} fields > ${LIMITS.sectionFields}`);
  fields?.forEach((f, i) => {
    const ft = textOf(f);
    if (!ft) out.push(`${at}.fields[${i}]: empty text`);
    else if (ft.length > LIMITS.fieldText)
      out.push(`${at}.fields[${i}]: text ${ft.length} > ${LIMITS.fieldText}`);
  });
  return out;
}

function checkContext(b: Block, at: string): string[] {
  const els: Block[] = Array.isArray(b.elements) ? b.elements : [];
  const out: string[] = [];
  if (els.length === 0) out.push(`${at}: context has no elements`);
  if (els.length > LIMITS.contextElements) out.push(`${at}: ${els.length} context elements > 10`);
  els.forEach((e, i) => {
    if (e?.type === 'image') return;
    const t = textOf(e);
    if (!t) out.push(`${at}.elements[${i}]: empty text`);
    else if (t.length > LIMITS.contextText)
      out.push(`${at}.elements[${i}]: text ${t.length} > ${LIMITS.contextText}`);
  });
  return out;
}

function checkButton(e: Block, at: string): string[] {
  const out: string[] = [];
  const t = textOf(e.text);
  if (e.text?.type !== 'plain_text') out.push(`${at}: button text must be plain_text`);
  if (!t) out.push(`${at}: button text is empty`);
  else if (t.length > LIMITS.buttonText) out.push(`${at}: button text ${t.length} > ${LIMITS.buttonText}`);
  if (typeof e.value === 'string' && e.value.length > LIMITS.buttonValue)
    out.push(`${at}: value ${e.value.length} > ${LIMITS.buttonValue}`);
  if (typeof e.url === 'string' && e.url.length > LIMITS.buttonUrl)
    out.push(`${at}: url ${e.url.length} > ${LIMITS.buttonUrl}`);
  return out;
}

function checkActions(b: Block, at: string): string[] {
  const els: Block[] = Array.isArray(b.elements) ? b.elements : [];
  const out: string[] = [];
  if (els.length === 0) out.push(`${at}: actions block has no elements`);
  if (els.length > LIMITS.actionsElements)
    out.push(`${at}: ${els.length} elements > ${LIMITS.actionsElements}`);
  const seen = new Set<string>();
  els.forEach((e, i) => {
    const eAt = `${at}.elements[${i}]`;
    const id = e?.action_id;
    if (typeof id === 'string') {
      if (id.length > LIMITS.actionId) out.push(`${eAt}: action_id ${id.length} > ${LIMITS.actionId}`);
      if (seen.has(id)) out.push(`${eAt}: duplicate action_id ${id}`);
      seen.add(id);
    }
    if (e?.type === 'button') out.push(...checkButton(e, eAt));
  });
  return out;
}

function checkBlock(b: Block, at: string): string[] {
  switch (b?.type) {
    case 'header':
      return checkHeader(b, at);
    case 'section':
      return checkSection(b, at);
    case 'context':
      return checkContext(b, at);
    case 'actions':
      return checkActions(b, at);
    default:
      return KNOWN_BLOCKS.has(b?.type) ? [] : [`${at}: unsupported block type ${String(b?.type)}`];
  }
}

/** Every way `msg` breaks Slack's Block Kit limits (empty when Slack would accept it). */
export function validateMessage(msg: SlackMessage): string[] {
  const out: string[] = [];
  if (typeof msg.text !== 'string' || msg.text.length === 0) out.push('text: missing fallback text');
  else if (msg.text.length > LIMITS.messageText) out.push(`text: ${msg.text.length} > ${LIMITS.messageText}`);
  const blocks = Array.isArray(msg.blocks) ? msg.blocks : [];
  if (blocks.length > LIMITS.blocksPerMessage)
    out.push(`blocks: ${blocks.length} > ${LIMITS.blocksPerMessage}`);
  const ids = new Set<string>();
  blocks.forEach((b, i) => {
    const at = `blocks[${i}]`;
    const id = b?.block_id;
    if (id !== undefined) {
      if (typeof id !== 'string' || id.length === 0 || id.length > LIMITS.blockId)
        out.push(`${at}: bad block_id`);
      else if (ids.has(id)) out.push(`${at}: duplicate block_id ${id}`);
      ids.add(String(id));
    }
    out.push(...checkBlock(b, at));
  });
  return out;
}

/** The visible mark left where a section or context text was cut. */
export const TRUNCATED_NOTE = '… [truncated]';

function fitText(obj: Block, max: number, note = '…'): Block {
  if (!obj || typeof obj.text !== 'string') return obj;
  const text = obj.text.length === 0 ? '—' : obj.text;
  return { ...obj, text: clip(text, max, note) };
}

function fitBlock(b: Block): Block {
  switch (b?.type) {
    case 'header':
      return { ...b, text: fitText(b.text, LIMITS.headerText) };
    case 'section': {
      const out = { ...b };
      if (b.text) out.text = fitText(b.text, LIMITS.sectionText, TRUNCATED_NOTE);
      if (Array.isArray(b.fields))
        out.fields = b.fields
          .slice(0, LIMITS.sectionFields)
          .map((f: Block) => fitText(f, LIMITS.fieldText, TRUNCATED_NOTE));
      return out;
    }
    case 'context':
      return {
        ...b,
        elements: (b.elements ?? [])
          .slice(0, LIMITS.contextElements)
          .map((e: Block) => fitText(e, LIMITS.contextText, TRUNCATED_NOTE)),
      };
    case 'actions':
      return { ...b, elements: fitActions(b.elements ?? []) };
    default:
      return b;
  }
}

function fitActions(elements: Block[]): Block[] {
  const seen = new Set<string>();
  return elements.slice(0, LIMITS.actionsElements).map((e) => {
    const out = { ...e };
    if (e.text) out.text = fitText(e.text, LIMITS.buttonText);
    if (typeof e.value === 'string') out.value = e.value.slice(0, LIMITS.buttonValue);
    if (typeof e.action_id === 'string')
      out.action_id = uniqueId(e.action_id.slice(0, LIMITS.actionId - 4), seen);
    return out;
  });
}

function uniqueId(id: string, seen: Set<string>): string {
  let out = id;
  for (let n = 2; seen.has(out); n++) out = `${id}_${n}`;
  seen.add(out);
  return out;
}

/** Drops middle blocks past the limit, keeping the actions (buttons) and saying how many were cut. */
function fitBlockCount(blocks: Block[]): Block[] {
  if (blocks.length <= LIMITS.blocksPerMessage) return blocks;
  const actions = blocks.filter((b) => b?.type === 'actions').slice(0, 5);
  const others = blocks.filter((b) => b?.type !== 'actions');
  const keep = LIMITS.blocksPerMessage - actions.length - 1;
  const dropped = others.length - keep;
  const note = {
    type: 'context',
    block_id: 'heal_truncated_blocks',
    elements: [
      { type: 'mrkdwn', text: `_… truncated, ${dropped} more blocks not shown (see the full report)_` },
    ],
  };
  return [...others.slice(0, keep), note, ...actions];
}

function fallbackText(msg: SlackMessage): string {
  if (msg.text) return clip(msg.text, LIMITS.fallbackText);
  const first = msg.blocks.map((b: Block) => textOf(b?.text)).find((t) => t);
  return clip(first ?? 'Heal', LIMITS.fallbackText);
}

/**
 * Returns a copy of `msg` that Slack accepts: texts clipped with a visible `…`, lists cut to their limits,
 * `block_id`s and per-block `action_id`s made unique, at most 50 blocks (buttons kept), fallback text bounded.
 */
export function fitMessage(msg: SlackMessage): SlackMessage {
  const ids = new Set<string>();
  const blocks = fitBlockCount((msg.blocks ?? []).map(fitBlock)).map((b: Block) => {
    if (typeof b?.block_id !== 'string') return b;
    return { ...b, block_id: uniqueId(b.block_id.slice(0, LIMITS.blockId - 4) || 'b', ids) };
  });
  return { ...msg, text: fallbackText(msg), blocks };
}
