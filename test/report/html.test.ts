import { describe, expect, it } from 'vitest';
import { renderParent } from '../../src/report/blocks.ts';
import { blockToHtml, escapeHtml, mrkdwnToHtml, renderThreadsPage } from '../../src/report/html.ts';

describe('Block Kit → HTML', () => {
  it('escapes text, including Slack-escaped entities, and never emits raw markup from input', () => {
    expect(escapeHtml(`<script>"x"&'y'</script>`)).toBe(
      '&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;',
    );
    const html = mrkdwnToHtml('a &lt;img src=x onerror=alert(1)&gt; *b* `<c>`');
    expect(html).not.toMatch(/<img|<c>/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('<strong>b</strong>');
    expect(html).toContain('<code>&lt;c&gt;</code>');
  });

  it('renders links (http only), mentions, code blocks and emphasis', () => {
    expect(mrkdwnToHtml('<https://x.test/a?b=1&amp;c=2|View "log">')).toBe(
      '<a href="https://x.test/a?b=1&amp;c=2" rel="noopener noreferrer">View &quot;log&quot;</a>',
    );
    expect(mrkdwnToHtml('<javascript:alert(1)|click>')).toBe('click');
    expect(mrkdwnToHtml('hi <@U123>')).toBe('hi <span class="mention">@U123</span>');
    expect(mrkdwnToHtml('```\n*not bold*\n```')).toBe('<pre>*not bold*\n</pre>');
    expect(mrkdwnToHtml('_it_ and ~gone~\nnext')).toBe('<em>it</em> and <s>gone</s><br>next');
    expect(mrkdwnToHtml(':dart: :unknown_one:')).toBe('🎯 :unknown_one:');
  });

  it('renders header, context, divider, actions and names unknown blocks', () => {
    expect(blockToHtml({ type: 'header', text: { type: 'plain_text', text: 'A < B' } })).toContain(
      'A &lt; B',
    );
    expect(blockToHtml({ type: 'divider' })).toContain('<hr>');
    const actions = blockToHtml({
      type: 'actions',
      elements: [
        { type: 'button', style: 'primary', text: { type: 'plain_text', text: 'Rerun' }, action_id: 'r' },
      ],
    });
    expect(actions).toContain('class="btn btn-primary"');
    expect(blockToHtml({ type: 'video', block_id: '"x' })).toContain('[video]');
    expect(blockToHtml({ type: 'video', block_id: '"x' })).toContain('data-block-id="&quot;x"');
  });

  it('renders a real thread parent with every block visible', () => {
    const msg = renderParent({
      incidentId: 'inc_0123456789abcdef',
      target: { platform: 'spark', appId: 'app-1' },
      phase: 'failed',
      error: 'History Server <down> & out',
    });
    const page = renderThreadsPage('T', [
      {
        channel: 'alerts',
        title: 'x',
        messages: [{ author: 'Heal', ts: '1763607600.000100', text: msg.text, blocks: msg.blocks }],
      },
    ]);
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain('Investigation failed:');
    expect(page).toContain('History Server &lt;down&gt; &amp; out');
    expect(page).not.toContain('<down>');
    expect(page.match(/<section class="thread"/g)).toHaveLength(1);
  });
});
