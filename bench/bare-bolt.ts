/** A bare Bolt app (HTTPReceiver, same signing secret) that only acks `/heal` and clicks: the ack baseline. */
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

const port = Number(process.argv[2]);
const receiver = new HTTPReceiver({
  signingSecret: String(process.env.SLACK_SIGNING_SECRET),
  endpoints: ['/slack/events'],
});
const app = new App({
  token: 'xoxb-bare',
  receiver,
  logLevel: process.env.BARE_DEBUG ? LogLevel.DEBUG : LogLevel.ERROR,
  // Same construction as `heal web`: the token is checked with auth.test against SLACK_API_URL (fake Slack).
  clientOptions: { slackApiUrl: String(process.env.SLACK_API_URL) },
});
app.command('/heal', async ({ ack }) => ack({ response_type: 'ephemeral', text: 'ok' }));
app.action(/.*/, async ({ ack }) => ack());
await app.start(port);
console.log('bare bolt ready');
