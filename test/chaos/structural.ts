/**
 * Structurally wrong payloads for the parsers of `heal web` (issue 13 item 6): a valid template of every
 * payload kind Slack sends and of every webhook, with one field (or several, seeded) of the wrong type,
 * removed, repeated or nested deep.
 */
/** Nested `depth` levels deep: `[[[…]]]` or `{"a":{"a":…}}` (JSON.parse handles it; recursive walkers may not). */
function deep(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = kind === 'array' ? [] : {};
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

/** Values of the wrong type for any field; `DELETE` removes the field instead. */
export const DELETE = Symbol('delete');
export const WRONG_VALUES: readonly unknown[] = [
  null,
  [],
  [null],
  {},
  0,
  -1,
  1e308,
  '',
  'x',
  true,
  deep(3000, 'array'),
  deep(500, 'object'),
  DELETE,
];

type Json = Record<string, unknown>;

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)] as T;
}
const TEAM = { id: 'T0001', domain: 'example' };
const USER = { id: 'U0FUZZ', username: 'fuzz', name: 'fuzz', team_id: 'T0001' };

/** One valid payload per kind Slack sends, and how Slack encodes it (events JSON, interactivity `payload=`). */
export const SLACK_TEMPLATES: Record<string, { payload: Json; encoding: 'json' | 'payload' }> = {
  url_verification: {
    encoding: 'json',
    payload: { token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge: 'c0ffee', type: 'url_verification' },
  },
  event_callback: {
    encoding: 'json',
    payload: {
      token: 'x8GlZSSaBheFZWjZPbxPasEY',
      team_id: 'T0001',
      api_app_id: 'A0HEAL',
      type: 'event_callback',
      event_id: 'Ev0FUZZ',
      event_time: 1763600000,
      authorizations: [{ team_id: 'T0001', user_id: 'UHEALBOT', is_bot: true, enterprise_id: null }],
      event: {
        type: 'message',
        channel: 'C0FUZZ',
        user: 'U0FUZZ',
        text: 'hello',
        ts: '1.2',
        channel_type: 'channel',
      },
    },
  },
  block_actions: {
    encoding: 'payload',
    payload: {
      type: 'block_actions',
      team: TEAM,
      user: USER,
      api_app_id: 'A0HEAL',
      token: 'x8GlZSSaBheFZWjZPbxPasEY',
      container: { type: 'message', message_ts: '1.1', channel_id: 'C0FUZZ', is_ephemeral: false },
      trigger_id: '1234.5678.abcd',
      channel: { id: 'C0FUZZ', name: 'fuzz' },
      message: { type: 'message', ts: '1.1', text: 'Heal', blocks: [] },
      response_url: 'https://hooks.slack.com/actions/T0001/1/x',
      actions: [
        {
          action_id: 'heal_dismiss',
          block_id: 'heal_actions',
          value: 'inc_0000000000000000',
          type: 'button',
        },
      ],
    },
  },
  view_submission: {
    encoding: 'payload',
    payload: {
      type: 'view_submission',
      team: TEAM,
      user: USER,
      api_app_id: 'A0HEAL',
      token: 'x8GlZSSaBheFZWjZPbxPasEY',
      trigger_id: '1234.5678.abcd',
      view: {
        id: 'V0FUZZ',
        type: 'modal',
        callback_id: 'heal_fix_submit',
        private_metadata: '{"incidentId":"inc_0000000000000000"}',
        state: { values: {} },
        hash: '1.2',
      },
      response_urls: [],
    },
  },
};

/** The `/heal help` form (no investigation starts from it). */
export const COMMAND_FIELDS: Record<string, string> = {
  token: 'gIkuvaNzQIHg97ATvDxqgjtO',
  team_id: 'T0001',
  team_domain: 'example',
  channel_id: 'C0FUZZ',
  channel_name: 'fuzz',
  user_id: 'U0FUZZ',
  user_name: 'fuzz',
  command: '/heal',
  text: 'help',
  api_app_id: 'A0HEAL',
  response_url: 'https://hooks.slack.com/commands/1234/5678',
  trigger_id: '123.123.123',
};

type Path = Array<string | number>;

/** Every path to a value inside `v` (containers included), depth first, at most 8 levels down. */
export function pathsOf(v: unknown, at: Path = []): Path[] {
  if (v === null || typeof v !== 'object' || at.length >= 8) return [];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return entries.flatMap(([k, x]) => [[...at, k], ...pathsOf(x, [...at, k])]);
}

/** `v` with the value at `path` replaced (or removed, for DELETE); only the containers on the path are copied. */
export function setAt(v: unknown, path: Path, value: unknown): unknown {
  const [k, ...rest] = path;
  if (k === undefined) return value;
  const copy = (Array.isArray(v) ? [...v] : { ...(v as Json) }) as Record<string | number, unknown>;
  if (rest.length) copy[k] = setAt(copy[k], rest, value);
  else if (value !== DELETE) copy[k] = value;
  else if (Array.isArray(copy)) copy.splice(Number(k), 1);
  else delete copy[k];
  return copy;
}

/** A signed-body case: what to send and as which content type. */
export interface BodyCase {
  name: string;
  body: string;
  contentType: 'json' | 'form';
}

function encode(name: string, payload: unknown, encoding: 'json' | 'payload'): BodyCase {
  const json = JSON.stringify(payload) ?? 'null';
  return encoding === 'json'
    ? { name, body: json, contentType: 'json' }
    : { name, body: `payload=${encodeURIComponent(json)}`, contentType: 'form' };
}

/** Whole bodies of the wrong type, as JSON and as `payload=`. */
export function wrongBodies(): BodyCase[] {
  const values = [null, [], 'x', 1, true, 0, {}, [{}], deep(3000, 'array')];
  return values.flatMap((v, i) => [encode(`body#${i}`, v, 'json'), encode(`payload#${i}`, v, 'payload')]);
}

/** Every field of every Slack template set to every wrong value (and removed), one at a time. */
export function structuralSlackCases(): BodyCase[] {
  return Object.entries(SLACK_TEMPLATES).flatMap(([kind, t]) =>
    pathsOf(t.payload).flatMap((p) =>
      WRONG_VALUES.map((w, i) => encode(`${kind}.${p.join('.')}#${i}`, setAt(t.payload, p, w), t.encoding)),
    ),
  );
}

/** Slash-command forms with each field removed, emptied, repeated (parsed as an array) or given `payload=`. */
export function commandFormCases(): BodyCase[] {
  const form = (f: Array<[string, string]>) => new URLSearchParams(f).toString();
  const fields = Object.entries(COMMAND_FIELDS);
  return fields.flatMap(([k]) => [
    {
      name: `command-${k}-missing`,
      body: form(fields.filter(([x]) => x !== k)),
      contentType: 'form' as const,
    },
    {
      name: `command-${k}-empty`,
      body: form(fields.map(([x, v]) => [x, x === k ? '' : v])),
      contentType: 'form' as const,
    },
    { name: `command-${k}-twice`, body: form([...fields, [k, 'again']]), contentType: 'form' as const },
  ]);
}

/** 1-4 random mutations of a random template, sent in either encoding. */
export function randomSlackCase(rand: () => number): BodyCase {
  const kinds = Object.keys(SLACK_TEMPLATES);
  const kind = pick(rand, kinds);
  const t = SLACK_TEMPLATES[kind] as { payload: Json; encoding: 'json' | 'payload' };
  let v: unknown = t.payload;
  for (let n = 1 + Math.floor(rand() * 4); n > 0; n--) {
    const paths = pathsOf(v);
    if (!paths.length) break;
    v = setAt(v, pick(rand, paths), pick(rand, WRONG_VALUES));
  }
  return encode(`random ${kind}`, v, rand() < 0.8 ? t.encoding : t.encoding === 'json' ? 'payload' : 'json');
}

/** Valid webhook bodies (`POST /alerts/<source>`); dbt Cloud's must be signed by the sender. */
export function webhookTemplates(now: Date): Record<'airflow' | 'dbt-cloud' | 'generic', Json> {
  return {
    airflow: {
      dag_id: 'fuzz_dag',
      run_id: 'manual__2026-01-01T00:00:00+00:00',
      task_id: 'load',
      try_number: 1,
      log_url: 'http://airflow.example.com/log',
      exception: 'boom',
      state: 'failed',
    },
    'dbt-cloud': {
      accountId: 1,
      webhookId: 'wsu_fuzz',
      eventId: 'wev_fuzz',
      timestamp: now.toISOString(),
      eventType: 'job.run.errored',
      webhookName: 'heal',
      data: { jobId: '1', jobName: 'fuzz', runId: '99', runStatus: 'Errored', runStatusCode: 20 },
    },
    generic: { platform: 'spark', target: 'app-20261120021500-9999', summary: 'fuzz', id: 'fuzz-1' },
  };
}

/** Every field of a webhook template set to every wrong value (and removed), one at a time. */
export function structuralWebhookBodies(template: Json): string[] {
  const whole = [null, [], 'x', 1, true].map((v) => JSON.stringify(v));
  return [
    ...whole,
    ...pathsOf(template).flatMap((p) => WRONG_VALUES.map((w) => JSON.stringify(setAt(template, p, w)))),
  ];
}
