import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireSlack } from '../../src/core/config.ts';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      PORT: 3000,
      SLACK_API_URL: 'https://slack.com/api/',
    });
    expect(c.HEAL_ALERT_CHANNELS).toEqual([]);
  });

  it('names every invalid variable in one error', () => {
    let err: unknown;
    try {
      loadConfig({
        PORT: 'abc',
        SLACK_API_URL: 'http://127.0.0.1:1/api',
        SPARK_HISTORY_URL: 'nope',
        REDIS_URL: 'http://x',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    for (const name of ['PORT', 'SLACK_API_URL', 'SPARK_HISTORY_URL', 'REDIS_URL'])
      expect(message).toContain(name);
    expect((err as ConfigError).problems).toHaveLength(4);
  });

  it('keeps a Redis db index, splits channel lists and trims the History Server slash', () => {
    const c = loadConfig({
      REDIS_URL: 'redis://127.0.0.1:6379/9',
      HEAL_ALERT_CHANNELS: 'C1, C2,,',
      SPARK_HISTORY_URL: 'http://history:18080/',
    });
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379/9');
    expect(c.HEAL_ALERT_CHANNELS).toEqual(['C1', 'C2']);
    expect(c.SPARK_HISTORY_URL).toBe('http://history:18080');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ SPARK_HISTORY_URL: '', SLACK_BOT_TOKEN: '' }).SPARK_HISTORY_URL).toBeUndefined();
  });

  it('requireSlack names each missing credential', () => {
    expect(() => requireSlack(loadConfig({}), { web: true })).toThrow(
      /SLACK_BOT_TOKEN[\s\S]*SLACK_SIGNING_SECRET/,
    );
    expect(
      requireSlack(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }), { web: true }),
    ).toEqual({
      botToken: 'xoxb-1',
      signingSecret: '',
    });
  });
});
