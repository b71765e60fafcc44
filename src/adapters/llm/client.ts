/**
 * The Anthropic SDK wrapper: one streamed Messages request with a cached system prompt and a zod-validated
 * structured answer. Upstream failure (429/529 after the SDK's retries, timeouts, malformed output, refusals)
 * resolves as an `Upstream` error with the upstream's own message; only bugs throw.
 */
import Anthropic, {
  AnthropicError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { zodOutputFormat } from '@anthropic-ai/sdk/helpers/zod';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import { ok, type Upstream, upstreamError } from '../../core/upstream.ts';
import { SYSTEM_PROMPT } from './prompt.ts';
import { LlmAnswer } from './schema.ts';

export const DEFAULT_MAX_TOKENS = 4_096;
export const DEFAULT_TIMEOUT_MS = 120_000;

export interface LlmClientOptions {
  /** Per-attempt timeout, ms (the SDK retries timeouts too). */
  timeoutMs?: number;
  /** Retries of 408/409/429/5xx and connection errors; the SDK default is 2. */
  maxRetries?: number;
}

/** What came back: the validated answer and the upstream's bookkeeping. */
export interface LlmReply {
  answer: LlmAnswer;
  model: string;
  requestId: string | null;
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number };
}

export interface AskOptions {
  model: string;
  maxTokens?: number;
  signal?: AbortSignal;
  /** Called when the stream opens (first bytes from the API). */
  onStart?: () => void;
}

/** Builds the SDK client from the config (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`); null without a key. */
export function createLlmClient(config: Config, opts: LlmClientOptions = {}): Anthropic | null {
  if (!config.ANTHROPIC_API_KEY) return null;
  return new Anthropic({
    apiKey: config.ANTHROPIC_API_KEY,
    ...(config.ANTHROPIC_BASE_URL ? { baseURL: config.ANTHROPIC_BASE_URL } : {}),
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(opts.maxRetries === undefined ? {} : { maxRetries: opts.maxRetries }),
  });
}

/** Turns an SDK error into the upstream's own words, saying what kind of failure it was. */
export function describeLlmError(err: unknown): { message: string; retryable: boolean; httpStatus?: number } {
  if (err instanceof APIConnectionTimeoutError) return { message: 'request timed out', retryable: true };
  if (err instanceof APIUserAbortError) return { message: 'request aborted', retryable: false };
  if (err instanceof APIError && err.status !== undefined) {
    const what = err.type ?? 'error';
    const detail = err.apiMessage ?? err.message;
    const rid = err.requestID ? ` (request ${err.requestID})` : '';
    const retryable = err.status === 429 || err.status >= 500;
    const tail = retryable ? ' after retries' : '';
    return {
      message: `HTTP ${err.status} ${what}${tail}: ${detail}${rid}`,
      retryable,
      httpStatus: err.status,
    };
  }
  if (err instanceof APIError) return { message: `connection failed: ${err.message}`, retryable: true };
  const first = errorMessage(err).split('\n')[0] ?? '';
  if (/structured output/i.test(first)) return { message: `malformed answer: ${first}`, retryable: false };
  return { message: `stream failed: ${first}`, retryable: true };
}

/** Sends one request (system prompt cached, structured output) and returns the validated answer. */
export async function askClaude(
  client: Anthropic,
  userText: string,
  opts: AskOptions,
): Promise<Upstream<LlmReply>> {
  try {
    const stream = client.messages.stream(
      {
        model: opts.model,
        max_tokens: opts.maxTokens ?? DEFAULT_MAX_TOKENS,
        system: [{ type: 'text', text: SYSTEM_PROMPT, cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: userText }],
        output_config: { format: zodOutputFormat(LlmAnswer) },
      },
      opts.signal ? { signal: opts.signal } : {},
    );
    if (opts.onStart) stream.once('connect', opts.onStart);
    const message = await stream.finalMessage();
    if (message.stop_reason === 'refusal') return upstreamError('Claude refused to answer', false);
    if (message.stop_reason === 'max_tokens')
      return upstreamError('answer cut off at max_tokens (incomplete JSON)', false);
    const answer = LlmAnswer.safeParse(message.parsed_output);
    if (!answer.success) return upstreamError(`malformed answer: ${answer.error.issues[0]?.message}`, false);
    const u = message.usage;
    return ok({
      answer: answer.data,
      model: message.model,
      requestId: stream.request_id ?? null,
      usage: {
        inputTokens: u.input_tokens,
        outputTokens: u.output_tokens,
        cacheReadTokens: u.cache_read_input_tokens ?? 0,
        cacheWriteTokens: u.cache_creation_input_tokens ?? 0,
      },
    });
  } catch (err) {
    // SDK errors (HTTP, connection, timeout, unparseable output) are upstream failures; anything else is a bug.
    if (!(err instanceof AnthropicError)) throw err;
    const d = describeLlmError(err);
    return upstreamError(d.message, d.retryable, d.httpStatus);
  }
}
