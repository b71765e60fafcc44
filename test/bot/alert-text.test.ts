import { describe, expect, it } from 'vitest';
import {
  airflowFieldsTarget,
  extractUrls,
  findAlertTarget,
  messageTexts,
  unescapeSlack,
} from '../../src/bot/alert-text.ts';
import { isAlertCandidate } from '../../src/bot/listeners/alert-message.ts';

// Trimmed from corpus/slack/zulip/message_from_slack_integration_bot.json (a ClickUp bot_message event).
const CORPUS_BOT_MESSAGE = {
  subtype: 'bot_message',
  text: '*Task status changed* from `complete` to `to do`',
  username: 'ClickUp',
  attachments: [
    {
      id: 1,
      blocks: [
        {
          type: 'section',
          block_id: 'bZ4XB',
          text: {
            type: 'mrkdwn',
            text: '*<https://app.clickup.com/t/25567147/86cw30wf2|asd>*',
            verbatim: false,
          },
        },
        {
          type: 'actions',
          block_id: 'cg8fg',
          elements: [
            {
              type: 'button',
              action_id: 'NOOP',
              text: { type: 'plain_text', text: 'View task', emoji: true },
              url: 'https://app.clickup.com/t/25567147/86cw30wf2',
            },
          ],
        },
      ],
      color: '#656f7d',
      fallback: '[no preview available]',
    },
  ],
  type: 'message',
  ts: '1723609070.703489',
  bot_id: 'B06NWMNUQ3W',
  blocks: [
    {
      type: 'section',
      block_id: 'X0xqC',
      text: { type: 'mrkdwn', text: '*Task status changed* from `complete` to `to do`', verbatim: false },
    },
  ],
  channel: 'C06P6T3QGD7',
  event_ts: '1723609070.703489',
  channel_type: 'channel',
};

const onlySpark = (p: string) => p === 'spark';

describe('alert text in Slack wire format', () => {
  it('unescapes &amp; &lt; &gt; once', () => {
    expect(unescapeSlack('a &lt;b&gt; &amp;lt; c&amp;d')).toBe('a <b> &lt; c&d');
  });

  it('reads <url>, <url|label> and bare URLs, skipping mentions', () => {
    const text =
      'Job failed <@U123> in <#C999|alerts>: <https://shs.example.com/history/app-20261120021500-0042/jobs/?a=1&amp;b=2|Spark UI> ' +
      'see also https://yarn.example.com/cluster/app/application_1763500000000_0131).';
    expect(extractUrls(text)).toEqual([
      'https://shs.example.com/history/app-20261120021500-0042/jobs/?a=1&b=2',
      'https://yarn.example.com/cluster/app/application_1763500000000_0131',
    ]);
  });

  it('finds a Spark target in attachments and blocks of a bot message (corpus shape)', () => {
    const event = structuredClone(CORPUS_BOT_MESSAGE);
    const section = event.attachments[0]?.blocks[0];
    if (!section?.text) throw new Error('fixture shape changed');
    expect(findAlertTarget(event, onlySpark)).toBeNull();
    section.text.text =
      '*<http://spark-history:18080/history/application_1763500000000_0131/1/stages/|orders failed>*';
    expect(messageTexts(event).length).toBeGreaterThan(1);
    expect(findAlertTarget(event, onlySpark)).toEqual({
      platform: 'spark',
      appId: 'application_1763500000000_0131',
      attempt: '1',
      url: 'http://spark-history:18080/history/application_1763500000000_0131/1/stages/',
    });
  });

  it('skips URLs of platforms a worker cannot investigate yet', () => {
    const event = {
      text: '<http://airflow:8080/dags/d/grid?dag_run_id=r1|run> <http://shs/history/local-1700000000123/>',
    };
    expect(findAlertTarget(event, onlySpark)).toMatchObject({
      platform: 'spark',
      appId: 'local-1700000000123',
    });
    expect(
      findAlertTarget({ text: '<http://airflow:8080/dags/d/grid?dag_run_id=r1>' }, onlySpark),
    ).toBeNull();
  });

  it('treats only top-level, new messages in alert channels as alerts', () => {
    const channels = new Set(['C1']);
    expect(isAlertCandidate({ channel: 'C1', ts: '1.1', subtype: 'bot_message' }, channels)).toBe(true);
    expect(isAlertCandidate({ channel: 'C2', ts: '1.1' }, channels)).toBe(false);
    expect(isAlertCandidate({ channel: 'C1', ts: '1.2', thread_ts: '1.1' }, channels)).toBe(false);
    expect(isAlertCandidate({ channel: 'C1', ts: '1.1', subtype: 'message_changed' }, channels)).toBe(false);
  });
});

describe('Airflow fields in alert text', () => {
  it.each([
    [
      ':red_circle: Task Failed.\n*Task*: extract_ad_spend\n*Dag*: marketing_attribution\n*Execution Time*: 2026-11-19T04:00:00+00:00',
      {
        dagId: 'marketing_attribution',
        logicalDate: '2026-11-19T04:00:00+00:00',
        taskId: 'extract_ad_spend',
      },
    ],
    [
      'Airflow alert: dag_id=marketing_attribution run_id=scheduled__2026-11-19T04:00:00+00:00 task_id=extract',
      { dagId: 'marketing_attribution', runId: 'scheduled__2026-11-19T04:00:00+00:00', taskId: 'extract' },
    ],
    [
      '*DAG*: `fx_rates_sync` *Run ID*: `manual__2026-11-19T00:30:00+00:00` *Task*: `fetch_rates`',
      { dagId: 'fx_rates_sync', runId: 'manual__2026-11-19T00:30:00+00:00', taskId: 'fetch_rates' },
    ],
  ])('reads %j', (text, want) => {
    expect(airflowFieldsTarget(text)).toEqual({ platform: 'airflow', ...want });
  });

  it('needs a dag id and a run id or date', () => {
    expect(airflowFieldsTarget('dag: etl failed')).toBeNull();
    expect(airflowFieldsTarget('run_id=manual__1 failed')).toBeNull();
  });

  it('prefers a URL in the message over fields', () => {
    const event = {
      text: 'dag_id=other run_id=r1 <http://airflow:8080/dags/etl/grid?dag_run_id=manual__2&amp;task_id=load|log>',
    };
    expect(findAlertTarget(event, () => true)).toMatchObject({
      dagId: 'etl',
      runId: 'manual__2',
      taskId: 'load',
    });
    expect(findAlertTarget({ text: 'dag_id=etl run_id=r1' }, (p) => p !== 'airflow')).toBeNull();
  });
});
