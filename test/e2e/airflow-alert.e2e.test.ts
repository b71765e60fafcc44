import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentId } from '../../src/core/incident.ts';
import { parseTargetUrl } from '../../src/core/target.ts';
import { eventCallbackBody, sendSigned } from '../support/fakeSlack.ts';
import { ALERT_CHANNEL, parentPosts, SECRET, type Stack, startStack, waitPublished } from './stack.ts';

const SCENARIO = join(import.meta.dirname, '..', 'scenarios', 'airflow-upstream-api-field-renamed');
const RUN_ID = 'scheduled__2026-11-19T04:00:00+00:00';

describe('web + worker: an Airflow alert with a log URL (Airflow 2 fixture server)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ scenarioDir: SCENARIO });
  }, 45_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('investigates in the alert thread and blames the upstream task that broke, not the alerted one', async () => {
    const alertTs = '1763607600.000300';
    const logUrl = `${stack.fixture.base}/dags/marketing_attribution/grid?dag_run_id=${encodeURIComponent(RUN_ID)}&amp;task_id=publish_dashboard&amp;tab=logs`;
    const event = {
      type: 'message',
      subtype: 'bot_message',
      bot_id: 'B0AIRFLOW',
      username: 'Airflow',
      text: `:red_circle: Task failed: *publish_dashboard* in marketing_attribution <${logUrl}|View log>`,
      ts: alertTs,
      channel: ALERT_CHANNEL,
      event_ts: alertTs,
      channel_type: 'channel',
    };
    const res = await sendSigned(`${stack.base}/slack/events`, eventCallbackBody(event, 'Ev0AIRFLOW1'), {
      secret: SECRET,
      contentType: 'json',
    });
    expect(res.status).toBe(200);

    const parsed = parseTargetUrl(logUrl.replaceAll('&amp;', '&'));
    if (!parsed.ok) throw new Error(parsed.error);
    const rec = await waitPublished(stack, incidentId(parsed.target));
    expect(rec.threadTs).toBe(alertTs);
    const parentTs = parentPosts(stack.slack, ALERT_CHANNEL, alertTs)[0]?.response.ts;
    expect(parentTs).toBe(rec.parentTs);
    const parent = JSON.stringify(stack.slack.messages.get(String(parentTs)));
    expect(parent).toMatch(/airflow\.schema_drift · confidence \d+%/);
    expect(parent).toContain('extract_ad_spend');
    expect(stack.slack.calls.filter((c) => c.response.ok !== true)).toEqual([]);
    expect(stack.fixture.requests.some((r) => r.path.includes('/taskInstances/extract_ad_spend/logs/'))).toBe(
      true,
    );
  }, 60_000);
});
