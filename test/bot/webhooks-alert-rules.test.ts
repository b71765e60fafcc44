import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAlertRules, targetByRules } from '../../src/bot/alert-rules.ts';
import { ConfigError } from '../../src/core/config.ts';

const rules = loadAlertRules(undefined);
const yes = () => true;

describe('alert rules (config/alert-rules.default.yaml)', () => {
  it('pulls dag_id / run_id / task_id out of an Airflow notifier message, in text or attachments', () => {
    const text =
      ':red_circle: Task Failed.\n*Task*: load_orders\n*Dag*: orders_daily\n*Run ID*: scheduled__2026-03-01T00:00:00+00:00';
    expect(targetByRules(rules, { username: 'Airflow', text }, yes)).toMatchObject({
      rule: 'airflow-notifier',
      target: {
        platform: 'airflow',
        dagId: 'orders_daily',
        runId: 'scheduled__2026-03-01T00:00:00+00:00',
        taskId: 'load_orders',
      },
    });
    const attachments = [
      { fallback: 'failed', fields: [{ title: 'x', value: 'dag_id=orders_daily run_id=manual__1' }] },
    ];
    expect(targetByRules(rules, { username: 'Airflow', text: '', attachments }, yes)?.target).toMatchObject({
      dagId: 'orders_daily',
      runId: 'manual__1',
    });
  });

  it('applies a rule only to its alerting bots, and needs the fields a target requires', () => {
    const text = '*Dag*: orders_daily *Run ID*: manual__1';
    expect(targetByRules(rules, { username: 'someone', text }, yes)).toBeNull();
    expect(
      targetByRules(rules, { username: 'Airflow', text: 'The DAG orders_daily failed' }, yes),
    ).toBeNull();
  });

  it('reads a dbt Cloud run id from a dbt Cloud notification without its link', () => {
    const ev = { username: 'dbt Cloud', text: 'Job *Nightly marts* (Run #51009877) errored in 3m' };
    expect(targetByRules(rules, ev, yes)?.target).toEqual({ platform: 'dbt', cloudRunId: '51009877' });
  });

  it('refuses a rules file with a bad regex or an unknown field, naming it', () => {
    const file = join(tmpdir(), `heal-rules-${process.pid}.yaml`);
    writeFileSync(
      file,
      'rules:\n  - name: x\n    platform: airflow\n    patterns:\n      dagId: ["(unclosed"]\n',
    );
    expect(() => loadAlertRules(file)).toThrow(ConfigError);
    writeFileSync(file, 'rules:\n  - name: x\n    platform: airflow\n    patterns:\n      dag: ["(x)"]\n');
    expect(() => loadAlertRules(file)).toThrow(/dag/);
  });
});
