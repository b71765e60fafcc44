import { describe, expect, it } from 'vitest';
import { clip, escapeMrkdwn, fitMessage, LIMITS, validateMessage } from '../../src/report/limits.ts';
import type { SlackMessage } from '../../src/report/types.ts';

const section = (text: string, block_id?: string) => ({
  type: 'section',
  ...(block_id ? { block_id } : {}),
  text: { type: 'mrkdwn', text },
});
const btn = (action_id: string, text: string, value = 'v') => ({
  type: 'button',
  action_id,
  text: { type: 'plain_text', text },
  value,
});

/** One message breaking every limit Heal cares about. */
function badMessage(): SlackMessage {
  return {
    text: 'x'.repeat(LIMITS.messageText + 1),
    blocks: [
      { type: 'header', block_id: 'h', text: { type: 'plain_text', text: 'H'.repeat(151) } },
      section('s'.repeat(3001), 'dup'),
      section('ok', 'dup'),
      section(''),
      {
        type: 'context',
        elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c'.repeat(2001) })),
      },
      {
        type: 'actions',
        block_id: 'a',
        elements: [
          btn('same', 'B'.repeat(76), 'v'.repeat(2001)),
          btn('same', 'ok'),
          btn('a'.repeat(256), 'ok'),
          ...Array.from({ length: 23 }, (_, i) => btn(`b${i}`, 'ok')),
        ],
      },
      ...Array.from({ length: 50 }, (_, i) => section(`filler ${i}`, `f${i}`)),
    ],
  };
}

describe('validateMessage', () => {
  it('accepts a plain valid message', () => {
    expect(validateMessage({ text: 'hi', blocks: [section('hello', 'a'), { type: 'divider' }] })).toEqual([]);
  });

  it('names every violation', () => {
    const v = validateMessage(badMessage()).join('\n');
    for (const expected of [
      'text: 40001 > 40000',
      'blocks: 56 > 50',
      'header text 151 > 150',
      'section text 3001 > 3000',
      'duplicate block_id dup',
      'section text is empty',
      '11 context elements > 10',
      'text 2001 > 2000',
      '26 elements > 25',
      'button text 76 > 75',
      'value 2001 > 2000',
      'duplicate action_id same',
      'action_id 256 > 255',
    ])
      expect(v).toContain(expected);
  });

  it('rejects unknown block types and missing fallback text', () => {
    expect(validateMessage({ text: '', blocks: [{ type: 'bogus' }] })).toEqual([
      'text: missing fallback text',
      'blocks[0]: unsupported block type bogus',
    ]);
  });
});

describe('fitMessage', () => {
  it('turns a message Slack would reject into one it accepts, keeping buttons and saying what was cut', () => {
    const fitted = fitMessage(badMessage());
    expect(validateMessage(fitted)).toEqual([]);
    expect(fitted.blocks).toHaveLength(50);
    expect(fitted.blocks.at(-1).type).toBe('actions');
    expect(fitted.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    expect(JSON.stringify(fitted)).toMatch(/… truncated, \d+ more blocks not shown/);
    const long = fitted.blocks.find((b) => b.type === 'section');
    expect(long.text.text).toMatch(/… \[truncated\]$/);
  });

  it('leaves a valid message unchanged', () => {
    const msg = {
      text: 'hi',
      blocks: [section('hello', 'a'), { type: 'actions', block_id: 'x', elements: [btn('a', 'A')] }],
    };
    expect(fitMessage(msg)).toEqual(msg);
  });
});

describe('clip and escapeMrkdwn', () => {
  it('escapes the three control characters', () => {
    expect(escapeMrkdwn('<!here> & <@U1>')).toBe('&lt;!here&gt; &amp; &lt;@U1&gt;');
  });

  it('never splits an entity and re-closes an open code fence', () => {
    const escaped = escapeMrkdwn('a<<<<<<<<<<');
    for (let max = 3; max < escaped.length; max++) {
      const out = clip(escaped, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(out.replace(/…$/, '')).toMatch(/^(a|a(&lt;)+|)$/);
    }
    const fenced = clip(`\`\`\`\n${'line\n'.repeat(100)}\`\`\``, 120, '…');
    expect(fenced.length).toBeLessThanOrEqual(120);
    expect((fenced.match(/```/g) ?? []).length).toBe(2);
  });
});
