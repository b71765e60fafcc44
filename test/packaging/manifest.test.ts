import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');

/** Bot scopes each Web API method needs (https://docs.slack.dev/reference/methods); [] = none. */
const METHOD_SCOPES: Record<string, string[]> = {
  'auth.test': [],
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.delete': ['chat:write'],
  'chat.getPermalink': [],
  'files.getUploadURLExternal': ['files:write'],
  'files.completeUploadExternal': ['files:write'],
  'files.upload': ['files:write'],
  'usergroups.users.list': ['usergroups:read'],
  'views.publish': [],
  'views.open': [],
  'views.update': [],
  'views.push': [],
  'conversations.info': ['channels:read', 'groups:read'],
  'conversations.replies': ['channels:history', 'groups:history'],
  'users.info': ['users:read'],
  'reactions.add': ['reactions:write'],
};
/** Scopes the events and the slash command need. */
const EVENT_SCOPES: Record<string, string[]> = {
  'message.channels': ['channels:history'],
  'message.groups': ['groups:history'],
  app_home_opened: [],
};
/** Optional scopes and why they are there. */
const OPTIONAL: Record<string, string> = {
  'chat:write.public': '/heal threads in public channels Heal is not in',
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

const FAMILIES = 'chat|files|views|usergroups|conversations|users|reactions|auth|pins|bookmarks|team';
/** Web API methods the shipped code calls: `client.chat.update(…)` and `'chat.update'` strings. */
function calledMethods(): Set<string> {
  const found = new Set<string>();
  const call = new RegExp(`\\bclient\\.((?:${FAMILIES})\\.[a-zA-Z]+(?:\\.[a-zA-Z]+)?)\\s*\\(`, 'g');
  const str = new RegExp(`['"\`]((?:${FAMILIES})\\.[a-z][a-zA-Z]+(?:\\.[a-z][a-zA-Z]+)?)['"\`]`, 'g');
  for (const file of sources(join(ROOT, 'src'))) {
    if (file.includes(`${join('src', 'cli', 'slack-standin.ts')}`)) continue; // the demo's Slack stand-in
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(call)) found.add(m[1] as string);
    for (const m of text.matchAll(str))
      if (!/\.(ts|js|json|yaml|md)$/.test(m[1] as string)) found.add(m[1] as string);
  }
  return found;
}

const manifest = parse(readFileSync(join(ROOT, 'slack', 'manifest.yaml'), 'utf8'));

describe('slack/manifest.yaml', () => {
  it('is YAML with the slash command, events and interactivity Heal listens to', () => {
    expect(manifest.features.slash_commands.map((c: { command: string }) => c.command)).toEqual(['/heal']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(
      expect.arrayContaining(['message.channels', 'message.groups', 'app_home_opened']),
    );
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    for (const url of [
      manifest.settings.event_subscriptions.request_url,
      manifest.settings.interactivity.request_url,
      manifest.features.slash_commands[0].url,
    ])
      expect(new URL(url).pathname).toBe('/slack/events');
  });

  it('grants exactly the scopes the Web API methods the code calls need (plus the documented optional ones)', () => {
    const methods = [...calledMethods()].sort();
    expect(methods).toEqual(expect.arrayContaining(['chat.postMessage', 'chat.update']));
    const unknown = methods.filter((m) => !(m in METHOD_SCOPES));
    expect(unknown, 'add these methods to METHOD_SCOPES (and their scopes to the manifest)').toEqual([]);
    const events: string[] = manifest.settings.event_subscriptions.bot_events;
    const needed = new Set([
      'commands',
      ...methods.flatMap((m) => METHOD_SCOPES[m] ?? []),
      ...events.flatMap((e) => EVENT_SCOPES[e] ?? [`unknown event ${e}`]),
    ]);
    const granted: string[] = manifest.oauth_config.scopes.bot;
    expect([...needed].filter((s) => !granted.includes(s)).sort()).toEqual([]);
    expect(granted.filter((s) => !needed.has(s) && !(s in OPTIONAL)).sort()).toEqual([]);
  });
});
