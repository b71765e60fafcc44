/**
 * A local fake of the Anthropic Messages API (node:http on 127.0.0.1, ephemeral port) speaking the real wire
 * format, built from the shapes in ../shared/corpus/anthropic: non-streaming JSON messages (recorded/
 * ToolRunner.nock.json: ids, usage with cache fields, request-id headers) and SSE transcripts (sse/*.txt:
 * message_start, content_block_*, ping, message_delta, message_stop), and error bodies
 * `{"type":"error","error":{"type":…,"message":…}}`. Every request (headers and body) is recorded; replies are
 * scripted per test. Like the real API it rejects `temperature`/`top_p`/`top_k` and forced `tool_choice`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted reply: a structured answer, raw text (e.g. malformed JSON), an HTTP error, or no answer. */
export type FakeReply =
  | { answer: unknown; stopReason?: string }
  | { text: string; stopReason?: string }
  | { status: number; errorType: string; message: string; retryAfter?: string }
  | { hang: true };

export interface RecordedAnthropicRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  raw: string;
}

export interface FakeAnthropic {
  baseURL: string;
  requests: RecordedAnthropicRequest[];
  /** Adds replies to the script, served in order; an empty script answers 500 api_error. */
  enqueue(...replies: FakeReply[]): void;
  close(): Promise<void>;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function id(prefix: string, n: number): string {
  return prefix + [...randomBytes(n)].map((b) => BASE62[b % 62]).join('');
}

function baseHeaders(): Record<string, string> {
  return {
    'request-id': id('req_011C', 20),
    'anthropic-organization-id': '5576611f-a1ee-427c-9800-298d9579899c',
    'x-robots-tag': 'none',
  };
}

function sendError(res: ServerResponse, status: number, type: string, message: string, extra = {}): void {
  res.writeHead(status, { ...baseHeaders(), 'content-type': 'application/json', ...extra });
  res.end(JSON.stringify({ type: 'error', error: { type, message } }));
}

/** The real API's request checks that matter to us (the 400s a wrong client would get). */
function invalid(req: IncomingMessage, body: Record<string, unknown>): string | null {
  if (!req.headers['anthropic-version']) return 'anthropic-version: header is required';
  for (const k of ['temperature', 'top_p', 'top_k'])
    if (k in body) return `${k}: is not supported for this model`;
  const choice = body.tool_choice as { type?: string } | undefined;
  if (choice && (choice.type === 'tool' || choice.type === 'any'))
    return 'tool_choice: forced tool use is not supported for this model; use output_config.format';
  if (typeof body.model !== 'string') return 'model: Field required';
  if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(body.messages)) return 'messages: Field required';
  return null;
}

function usage(raw: string, cached: boolean, system: number) {
  return {
    input_tokens: Math.ceil((raw.length - system) / 4),
    cache_creation_input_tokens: cached ? 0 : Math.ceil(system / 4),
    cache_read_input_tokens: cached ? Math.ceil(system / 4) : 0,
    cache_creation: {
      ephemeral_5m_input_tokens: cached ? 0 : Math.ceil(system / 4),
      ephemeral_1h_input_tokens: 0,
    },
    output_tokens: 1,
    service_tier: 'standard',
  };
}

function sendMessage(
  res: ServerResponse,
  body: Record<string, unknown>,
  text: string,
  stop: string,
  u: object,
) {
  const message = {
    model: body.model,
    id: id('msg_01', 22),
    type: 'message',
    role: 'assistant',
    content: [{ type: 'text', text }],
    stop_reason: stop,
    stop_sequence: null,
    usage: { ...u, output_tokens: Math.ceil(text.length / 4) },
  };
  res.writeHead(200, { ...baseHeaders(), 'content-type': 'application/json' });
  res.end(JSON.stringify(message));
}

function sendStream(
  res: ServerResponse,
  body: Record<string, unknown>,
  text: string,
  stop: string,
  u: object,
) {
  res.writeHead(200, {
    ...baseHeaders(),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  const event = (type: string, data: object) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const message = {
    id: id('msg_01', 22),
    type: 'message',
    role: 'assistant',
    model: body.model,
    content: [],
  };
  event('message_start', { message: { ...message, stop_reason: null, stop_sequence: null, usage: u } });
  event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  res.write('event: ping\ndata: {"type": "ping"}\n\n');
  for (let i = 0; i < text.length; i += 48)
    event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: text.slice(i, i + 48) } });
  event('content_block_stop', { index: 0 });
  event('message_delta', {
    delta: { stop_reason: stop, stop_sequence: null },
    usage: { output_tokens: Math.ceil(text.length / 4) },
  });
  event('message_stop', {});
  res.end();
}

/** Starts the fake on 127.0.0.1; set `ANTHROPIC_BASE_URL` (or the SDK's baseURL) to `baseURL`. */
export async function startFakeAnthropic(replies: FakeReply[] = []): Promise<FakeAnthropic> {
  const script = [...replies];
  const requests: RecordedAnthropicRequest[] = [];
  const systemsSeen = new Set<string>();
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      raw += c;
    });
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return sendError(res, 400, 'invalid_request_error', 'request body is not valid JSON');
      }
      const url = new URL(req.url ?? '/', 'http://fake');
      requests.push({ method: req.method ?? '', path: url.pathname, headers: { ...req.headers }, body, raw });
      if (req.method !== 'POST' || url.pathname !== '/v1/messages')
        return sendError(res, 404, 'not_found_error', `Not found: ${url.pathname}`);
      const problem = invalid(req, body);
      if (problem) return sendError(res, 400, 'invalid_request_error', problem);
      const reply = script.shift();
      if (!reply)
        return sendError(res, 500, 'api_error', 'fake: no scripted reply left', {
          'x-should-retry': 'false',
        });
      if ('hang' in reply) return; // never answers: the client's timeout fires
      if ('status' in reply)
        return sendError(
          res,
          reply.status,
          reply.errorType,
          reply.message,
          reply.retryAfter === undefined ? {} : { 'retry-after': reply.retryAfter },
        );
      const system = JSON.stringify(body.system ?? '');
      const u = usage(raw, systemsSeen.has(system), system.length);
      systemsSeen.add(system);
      const text = 'answer' in reply ? JSON.stringify(reply.answer) : reply.text;
      const stop = reply.stopReason ?? 'end_turn';
      (body.stream === true ? sendStream : sendMessage)(res, body, text, stop, u);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    enqueue: (...r) => {
      script.push(...r);
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
