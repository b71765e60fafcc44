import { type RetryOptions, WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../core/logger.ts';
import { Coalescer } from './coalesce.ts';
import { fitMessage, validateMessage } from './limits.ts';
import { MemorySlots, type PacerClock, RatePacer, RedisSlots, realClock } from './pacer.ts';
import { retryAfterSeconds, SlackApiError, slackLogger, toSlackApiError } from './slack-errors.ts';
import type { SlackMessage } from './types.ts';

export { SlackApiError, toSlackApiError } from './slack-errors.ts';

export interface SlackPublisherOptions {
  token: string;
  /** Web API base ending with a slash, e.g. `https://slack.com/api/` or `http://127.0.0.1:PORT/api/`. */
  slackApiUrl?: string;
  logger?: Logger;
  /** WebClient retries for 5xx and network errors (429s are handled here). Default: 4 within ~10 s. */
  retryConfig?: RetryOptions;
  /** Minimum spacing of chat.postMessage calls per channel. Default 1000 ms (Slack: ~1 message/s/channel). */
  postIntervalMs?: number;
  /** Minimum spacing of chat.update calls for the whole app. Default 1200 ms (Tier 3: 50 per minute). */
  updateIntervalMs?: number;
  /** 429s tolerated for one call before it fails (retryable). Default 8. */
  maxRateLimitRetries?: number;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /**
   * Shared pacing state: with it, every worker process paces against the same per-channel and per-method
   * slots (Slack's limits are per app, not per process). Without it, pacing is per process.
   */
  redis?: { client: Redis; prefix: string };
  clock?: PacerClock;
}

/** A file shared into a thread (the Markdown incident report). */
export interface UploadedFile {
  fileId: string;
}

/** Counters of this publisher's rate limiting, for logs and tests. */
export interface PublisherStats {
  /** HTTP 429 answers received. */
  rateLimited: number;
  /** Calls that succeeded after one or more 429s. */
  recovered: number;
}

const DEFAULT_RETRY: RetryOptions = {
  retries: 4,
  factor: 2,
  minTimeout: 250,
  maxTimeout: 4000,
  randomize: true,
};

const PostOk = z.object({ ok: z.literal(true), ts: z.string().min(1), channel: z.string().optional() });
const PermalinkOk = z.object({ ok: z.literal(true), permalink: z.string().min(1) });
const UploadUrlOk = z.object({ ok: z.literal(true), upload_url: z.url(), file_id: z.string().min(1) });
const CompleteOk = z.object({ ok: z.literal(true), files: z.array(z.object({ id: z.string() })).min(1) });

const postKey = (channel: string) => `post:${channel}`;
const methodKey = (method: string) => `method:${method}`;

/**
 * The only Slack I/O of the worker: posts, updates and uploads through Slack's Web API. Every message is
 * fitted to Block Kit limits first; every call must come back `ok: true` or a {@link SlackApiError} is
 * thrown.
 * Posts are paced per channel and updates per app (shared across processes with `redis`); updates of one
 * message are coalesced (latest state wins); a 429 blocks only its own channel or method for Retry-After.
 */
export class SlackPublisher {
  readonly stats: PublisherStats = { rateLimited: 0, recovered: 0 };
  private readonly client: WebClient;
  private readonly pacer: RatePacer;
  private readonly updates: Coalescer<{ channel: string; ts: string; msg: SlackMessage }>;
  private readonly log: Logger | undefined;
  private readonly postIntervalMs: number;
  private readonly updateIntervalMs: number;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;

  constructor(opts: SlackPublisherOptions) {
    this.log = opts.logger;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.client = new WebClient(opts.token, {
      slackApiUrl: opts.slackApiUrl ?? 'https://slack.com/api/',
      logger: slackLogger(opts.logger),
      retryConfig: opts.retryConfig ?? DEFAULT_RETRY,
      // WebClient would pause its whole request queue on a 429 (every channel); we block only the key.
      rejectRateLimitedCalls: true,
      timeout: this.timeoutMs,
    });
    const clock = opts.clock ?? realClock;
    const store = opts.redis ? new RedisSlots(opts.redis.client, opts.redis.prefix) : new MemorySlots(clock);
    this.pacer = new RatePacer(store, clock);
    this.postIntervalMs = opts.postIntervalMs ?? 1000;
    this.updateIntervalMs = opts.updateIntervalMs ?? 1200;
    this.maxRetries = opts.maxRateLimitRetries ?? 8;
    this.updates = new Coalescer(
      () => this.pacer.acquire(methodKey('chat.update'), this.updateIntervalMs),
      (_key, u) => this.sendUpdate(u.channel, u.ts, u.msg),
    );
  }

  /** Posts `msg` (in the thread of `threadTs` if given); returns the new message's `ts`. */
  async postMessage(channel: string, msg: SlackMessage, threadTs?: string): Promise<string> {
    const body = this.prepare(msg);
    const res = await this.paced('chat.postMessage', postKey(channel), this.postIntervalMs, false, () =>
      this.client.chat.postMessage({
        channel,
        ...body,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    return this.parse('chat.postMessage', PostOk, res).ts;
  }

  /**
   * Replaces the message at `ts` with `msg` (the thread parent, updated in place). Updates of one message
   * queued behind the app-wide chat.update pacing are coalesced: only the newest is sent, and every caller
   * resolves once a state at least as new as its own is in Slack.
   */
  update(channel: string, ts: string, msg: SlackMessage): Promise<void> {
    return this.updates.submit(`${channel}:${ts}`, { channel, ts, msg });
  }

  /** An ephemeral message only `user` sees; `msg` is plain text or a rendered message. */
  async postEphemeral(
    channel: string,
    user: string,
    msg: string | SlackMessage,
    threadTs?: string,
  ): Promise<void> {
    const body = this.prepare(typeof msg === 'string' ? { text: msg, blocks: [] } : msg);
    await this.paced('chat.postEphemeral', methodKey('chat.postEphemeral'), 0, false, () =>
      this.client.chat.postEphemeral({
        channel,
        user,
        ...body,
        ...(threadTs ? { thread_ts: threadTs } : {}),
      }),
    );
  }

  /** A link to the message at `ts`, or undefined when Slack cannot give one (logged, never thrown). */
  async permalink(channel: string, ts: string): Promise<string | undefined> {
    try {
      const res = await this.paced('chat.getPermalink', methodKey('chat.getPermalink'), 0, false, () =>
        this.client.chat.getPermalink({ channel, message_ts: ts }),
      );
      return this.parse('chat.getPermalink', PermalinkOk, res).permalink;
    } catch (err) {
      this.log?.warn({ err: String(err), channel, ts }, 'no permalink for the thread');
      return undefined;
    }
  }

  /**
   * Steps 1 and 2 of Slack's external upload (what WebClient's filesUploadV2 does): reserve an upload URL
   * and send the bytes to it. The file is not visible anywhere until {@link shareUpload}.
   */
  async uploadFile(filename: string, content: string): Promise<UploadedFile> {
    const bytes = Buffer.from(content, 'utf8');
    const method = 'files.getUploadURLExternal';
    const res = await this.paced(method, methodKey(method), 0, false, () =>
      this.client.files.getUploadURLExternal({ filename, length: bytes.length }),
    );
    const { upload_url, file_id } = this.parse(method, UploadUrlOk, res);
    let status: number;
    try {
      // Multipart like Slack's docs (`curl -F filename=@report.md`) and WebClient's filesUploadV2.
      const form = new FormData();
      form.append('filename', new Blob([bytes], { type: 'text/markdown' }), filename);
      const put = await fetch(upload_url, {
        method: 'POST',
        body: form,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await put.arrayBuffer();
      status = put.status;
    } catch (err) {
      throw new SlackApiError('files.upload', 'request_error', true, { cause: err });
    }
    if (status !== 200)
      throw new SlackApiError('files.upload', `http_${status}`, status >= 500 || status === 429);
    return { fileId: file_id };
  }

  /** Step 3: completes the upload and shares the file into `channel`'s thread at `threadTs`. */
  async shareUpload(file: UploadedFile, title: string, channel: string, threadTs: string): Promise<void> {
    const method = 'files.completeUploadExternal';
    const res = await this.paced(method, methodKey(method), 0, false, () =>
      this.client.files.completeUploadExternal({
        files: [{ id: file.fileId, title }],
        channel_id: channel,
        thread_ts: threadTs,
      }),
    );
    this.parse(method, CompleteOk, res);
  }

  private sendUpdate(channel: string, ts: string, msg: SlackMessage): Promise<void> {
    const body = this.prepare(msg);
    return this.paced('chat.update', methodKey('chat.update'), this.updateIntervalMs, true, () =>
      this.client.chat.update({ channel, ts, ...body }),
    ).then((res) => {
      this.parse('chat.update', PostOk, res);
    });
  }

  /**
   * Waits for `key`'s slot, calls, and on a 429 blocks `key` for Retry-After (every process sharing the
   * pacing state honours it) and tries again. `acquired`: the caller already waited for the first slot.
   */
  private async paced<T>(
    method: string,
    key: string,
    intervalMs: number,
    acquired: boolean,
    fn: () => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0 || !acquired) await this.pacer.acquire(key, intervalMs);
      try {
        const res = await fn();
        if (attempt > 0) this.stats.recovered++;
        return res;
      } catch (err) {
        const seconds = retryAfterSeconds(err);
        if (seconds === undefined || attempt >= this.maxRetries) throw toSlackApiError(method, err);
        this.stats.rateLimited++;
        // A small margin: the 429 was sent before we saw it, but clocks round to the millisecond.
        await this.pacer.block(key, seconds * 1000 + 50);
        this.log?.info({ method, key, retryAfterS: seconds, attempt }, 'Slack rate limit: retrying after');
      }
    }
  }

  /** Fits to Block Kit limits; a message that still breaks them (a bug) is sent as text only. */
  private prepare(msg: SlackMessage): { text: string; blocks?: SlackMessage['blocks'] } {
    const fitted = fitMessage(msg);
    if (fitted.blocks.length === 0) return { text: fitted.text };
    const violations = validateMessage(fitted);
    if (violations.length === 0) return { text: fitted.text, blocks: fitted.blocks };
    this.log?.error({ violations }, 'message breaks Block Kit limits after fitting; sending text only');
    return { text: fitted.text };
  }

  private parse<S extends z.ZodType>(method: string, schema: S, res: unknown): z.infer<S> {
    const parsed = schema.safeParse(res);
    if (!parsed.success) throw new SlackApiError(method, 'invalid_response', false, { cause: parsed.error });
    return parsed.data;
  }
}
