import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateMessage } from '../../src/report/limits.ts';

/** A scripted HTTP answer: status, headers and a JSON body (Slack's wire format). */
export interface Scripted {
  status?: number;
  headers?: Record<string, string>;
  body: Record<string, unknown>;
}

export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
  auth: string | undefined;
}

/**
 * A tiny Slack Web API on 127.0.0.1: form or JSON bodies in, `{ok:true, ts, channel}` out (shapes of
 * corpus/slack/slack-api-specs/examples), Block Kit validated like Slack (`invalid_blocks`), and per-method
 * scripted answers (429 + Retry-After, `ok:false` errors, 5xx) consumed before the defaults.
 */
export async function startScriptedSlack() {
  const calls: RecordedCall[] = [];
  const scripts = new Map<string, Scripted[]>();
  let seq = 0;
  const nextTs = () => `1503435956.${String(++seq).padStart(6, '0')}`;

  const defaults: Record<string, (p: Record<string, unknown>) => Record<string, unknown>> = {
    'chat.postMessage': (p) => ({
      ok: true,
      channel: p.channel,
      ts: nextTs(),
      message: { type: 'message', text: p.text },
    }),
    'chat.update': (p) => ({ ok: true, channel: p.channel, ts: p.ts, text: p.text }),
    'chat.postEphemeral': () => ({ ok: true, message_ts: nextTs() }),
    'chat.getPermalink': (p) => ({
      ok: true,
      channel: p.channel,
      permalink: `https://ghostbusters.slack.com/archives/${String(p.channel)}/p${String(p.message_ts).replace('.', '')}`,
    }),
  };

  function answer(method: string, params: Record<string, unknown>): Scripted {
    const queued = scripts.get(method)?.shift();
    if (queued) return queued;
    if (params.blocks !== undefined) {
      const blocks = params.blocks;
      const problems = Array.isArray(blocks)
        ? validateMessage({ text: String(params.text ?? ''), blocks })
        : ['bad'];
      if (problems.length) return { body: { ok: false, error: 'invalid_blocks', errors: problems } };
    }
    const handler = defaults[method];
    return { body: handler ? handler(params) : { ok: false, error: 'unknown_method' } };
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
      const params = parse(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']);
      calls.push({ method, params, auth: req.headers.authorization });
      const a = answer(method, params);
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json; charset=utf-8', ...a.headers });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    calls,
    callsOf: (method: string) => calls.filter((c) => c.method === method),
    script(method: string, ...answers: Scripted[]) {
      scripts.set(method, [...(scripts.get(method) ?? []), ...answers]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parse(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) return raw ? JSON.parse(raw) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    try {
      out[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
    } catch {
      out[k] = v;
    }
  }
  return out;
}
