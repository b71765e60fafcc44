import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/jobs/digest.ts';
import { duration, renderDigest } from '../../src/report/digest.ts';
import { validateMessage } from '../../src/report/limits.ts';

const FROM = Date.UTC(2026, 10, 16, 9);
const TO = Date.UTC(2026, 10, 23, 9);

const week: Digest = {
  from: FROM,
  to: TO,
  truncated: false,
  incidents: { total: 6, diagnosed: 4, abstained: 1, failed: 1, inProgress: 0 },
  timeToRootCause: { count: 4, p50Ms: 60_000, p90Ms: 300_000, maxMs: 300_000 },
  reruns: { requested: 2, succeeded: 1, failed: 1, pending: 0 },
  fixes: { approved: 1, opened: 1, failed: 0, pending: 0 },
  feedback: { up: 2, down: 1 },
  categories: [
    { category: 'spark.data_skew', count: 3 },
    { category: 'dbt.missing_column', count: 1 },
  ],
  top: [
    {
      signature: 'a'.repeat(20),
      platform: 'spark',
      pipeline: 'nightly_orders',
      culprit: 'stage 3',
      category: 'spark.data_skew',
      error: 'key cust_<n> holds <n>% of rows in stage <n>',
      count: 3,
      lastIncidentId: 'inc_a3',
      lastPermalink: 'https://acme.slack.com/archives/C0ALERTS/p1700000000000100',
      lastFix: { kind: 'rerun', result: 'succeeded', by: 'U1', at: FROM },
    },
    {
      signature: 'b'.repeat(20),
      platform: 'dbt',
      pipeline: '',
      culprit: 'model.shop.fct_orders',
      category: 'dbt.missing_column',
      error: 'column <q> does not exist',
      count: 1,
      lastIncidentId: 'inc_b1',
    },
  ],
};

const texts = (d: Digest) => JSON.stringify(renderDigest(d).blocks);

describe('renderDigest', () => {
  it('renders the week (snapshot) within Slack limits', () => {
    const msg = renderDigest(week);
    expect(validateMessage(msg)).toEqual([]);
    expect(msg).toMatchSnapshot();
  });

  it('states the rates with their counts, and says when nothing finished', () => {
    expect(texts(week)).toContain('2 asked, 1/2 (50%) succeeded');
    expect(texts(week)).toContain('1 approved, 1/1 (100%) opened a pull request');
    expect(texts(week)).toContain('2/3 (67%) of 👍/👎 votes');
    const pending = { ...week, reruns: { requested: 1, succeeded: 0, failed: 0, pending: 1 } };
    expect(texts(pending)).toContain('1 asked, none finished yet, 1 still running');
  });

  it('says so plainly when the week had no incident', () => {
    const empty: Digest = {
      ...week,
      incidents: { total: 0, diagnosed: 0, abstained: 0, failed: 0, inProgress: 0 },
      categories: [],
      top: [],
    };
    const { timeToRootCause: _, ...noTtrc } = empty;
    expect(texts(noTtrc)).toContain('No incidents this week');
  });

  it('escapes and redacts the stored error and names (untrusted text)', () => {
    const hostile = {
      ...week,
      top: [
        {
          ...week.top[1],
          error: '<!channel> password=hunter22 *bold*',
          culprit: '<@U0ADMIN>',
        } as Digest['top'][number],
      ],
    };
    const out = texts(hostile);
    expect(out).not.toContain('<!channel>');
    expect(out).not.toContain('<@U0ADMIN>');
    expect(out).not.toContain('hunter22');
  });

  it('keeps a 50-signature digest with long errors under the block and text limits', () => {
    const many = {
      ...week,
      top: Array.from(
        { length: 50 },
        () => ({ ...week.top[0], error: 'x'.repeat(500) }) as Digest['top'][number],
      ),
    };
    expect(validateMessage(renderDigest(many))).toEqual([]);
  });

  it.each([
    [850, '850 ms'],
    [42_000, '42s'],
    [200_000, '3m 20s'],
    [3_900_000, '1h 05m'],
    [3 * 86_400_000, '3d 0h'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });
});
