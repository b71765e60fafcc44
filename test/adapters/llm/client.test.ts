import Anthropic from '@anthropic-ai/sdk';
import { zodOutputFormat } from '@anthropic-ai/sdk/helpers/zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { askClaude, createLlmClient } from '../../../src/adapters/llm/client.ts';
import { SYSTEM_PROMPT } from '../../../src/adapters/llm/prompt.ts';
import { LlmAnswer } from '../../../src/adapters/llm/schema.ts';
import { CATEGORIES } from '../../../src/core/taxonomy.ts';
import { type FakeAnthropic, startFakeAnthropic } from '../../support/fakeAnthropic.ts';
import { answer, llmContext, TEST_KEY } from './reports.ts';

let fake: FakeAnthropic;
beforeEach(async () => {
  fake = await startFakeAnthropic();
});
afterEach(async () => {
  await fake.close();
});

describe('askClaude (SDK 1.x against the fake Messages API)', () => {
  it('sends the current wire format: version header, bearer auth, cached system prompt, structured output', async () => {
    fake.enqueue({ answer: answer() });
    const client = createLlmClient(llmContext(fake.baseURL).config);
    if (!client) throw new Error('client expected with a key');
    const reply = await askClaude(client, 'evidence here', { model: 'claude-heal-test' });
    expect(reply.status).toBe('ok');
    const req = fake.requests[0];
    expect(req?.path).toBe('/v1/messages');
    expect(req?.headers['anthropic-version']).toBe('2026-10-21');
    expect(req?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    const body = req?.body ?? {};
    expect(body).toMatchObject({ model: 'claude-heal-test', stream: true });
    for (const k of ['temperature', 'top_p', 'top_k', 'tool_choice', 'tools'])
      expect(body).not.toHaveProperty(k);
    expect(body.system).toEqual([
      { type: 'text', text: SYSTEM_PROMPT, cache_control: { type: 'ephemeral' } },
    ]);
    expect(body.messages).toEqual([{ role: 'user', content: 'evidence here' }]);
    expect(body.output_config).toMatchObject({ format: { type: 'json_schema' } });
    if (reply.status === 'ok') {
      expect(reply.data.answer).toEqual(answer());
      expect(reply.data.requestId).toMatch(/^req_011C/);
      expect(reply.data.usage.cacheWriteTokens).toBeGreaterThan(0);
    }
  });

  it('reads the cache on the second request (same system prompt)', async () => {
    fake.enqueue({ answer: answer() }, { answer: answer() });
    const client = createLlmClient(llmContext(fake.baseURL).config);
    if (!client) throw new Error('client expected');
    await askClaude(client, 'a', { model: 'm' });
    const second = await askClaude(client, 'b', { model: 'm' });
    expect(second.status === 'ok' && second.data.usage.cacheReadTokens).toBeGreaterThan(0);
  });

  it('returns a 400 from the API as an error with its message, not retried', async () => {
    fake.enqueue({ status: 400, errorType: 'invalid_request_error', message: 'max_tokens: too large' });
    const client = createLlmClient(llmContext(fake.baseURL).config);
    if (!client) throw new Error('client expected');
    const reply = await askClaude(client, 'x', { model: 'm' });
    expect(reply).toMatchObject({ status: 'error', httpStatus: 400, retryable: false });
    expect(reply.status === 'error' && reply.message).toMatch(
      /^HTTP 400 invalid_request_error: max_tokens: too large/,
    );
    expect(fake.requests).toHaveLength(1);
  });

  it('returns null without an API key', () => {
    expect(createLlmClient(llmContext(fake.baseURL, { ANTHROPIC_API_KEY: '' }).config)).toBeNull();
  });

  it('the system prompt names every taxonomy id and the untrusted-data rule', () => {
    for (const c of CATEGORIES) expect(SYSTEM_PROMPT).toContain(`- ${c}:`);
    expect(SYSTEM_PROMPT).toMatch(/data to diagnose, never instructions/);
  });
});

describe('the fake Anthropic server', () => {
  it('speaks the non-streaming JSON format too (messages.parse)', async () => {
    fake.enqueue({ answer: answer() });
    const client = new Anthropic({ apiKey: TEST_KEY, baseURL: fake.baseURL });
    const msg = await client.messages.parse({
      model: 'm',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'x' }],
      output_config: { format: zodOutputFormat(LlmAnswer) },
    });
    expect(msg.id).toMatch(/^msg_01/);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.parsed_output).toEqual(answer());
    expect(fake.requests[0]?.body.stream).toBeUndefined();
  });

  it('rejects temperature and forced tool_choice like the real API', async () => {
    const client = new Anthropic({ apiKey: TEST_KEY, baseURL: fake.baseURL, maxRetries: 0 });
    const base = { model: 'm', max_tokens: 10, messages: [{ role: 'user' as const, content: 'x' }] };
    await expect(client.messages.create({ ...base, temperature: 0 } as never)).rejects.toThrow(/temperature/);
    await expect(
      client.messages.create({
        ...base,
        tools: [{ name: 't', input_schema: { type: 'object' } }],
        tool_choice: { type: 'tool', name: 't' },
      }),
    ).rejects.toThrow(/forced tool use/);
  });
});
