/**
 * Slack's Web API rate limits for the fake (https://docs.slack.dev/apis/web-api/rate-limits): limits apply per
 * method per app per workspace in tiers (Tier 3: 50+ per minute, Tier 4: 100+, with bursts), and
 * chat.postMessage has its own: about one message per second per channel, short bursts allowed. Over a
 * limit Slack answers HTTP 429 with `Retry-After: <seconds>`.
 */
export interface Bucket {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: how many calls may come at once after a quiet period. */
  burst: number;
}

export interface RateLimitOptions {
  /** chat.postMessage per channel; Slack: 1 per second, short bursts. */
  postPerChannel?: Bucket;
  /** Other methods, for the whole app, e.g. `{ 'chat.update': tier(50, 5) }`. */
  tiers?: Record<string, Bucket>;
}

/** A Web API tier as a bucket: `perMinute` sustained, `burst` at once. */
export const tier = (perMinute: number, burst: number): Bucket => ({ perSecond: perMinute / 60, burst });

/** What the limiter saw; `early` counts requests sent before a Retry-After the fake gave had elapsed. */
export interface RateLimitStats {
  /** HTTP 429 answers sent. */
  sent429: number;
  /** Requests made before the Retry-After of an earlier 429 on the same limit had elapsed (a client bug). */
  early: number;
  /** 429s by limit key (`chat.postMessage:<channel>` or the method name). */
  byKey: Record<string, number>;
}

interface State {
  tokens: number;
  at: number;
  /** No request on this key should arrive before this time (ms), after a 429. */
  notBefore: number;
}

/** Token buckets per limit key; `check` answers undefined (allowed) or the Retry-After seconds to send. */
export class RateLimiter {
  readonly stats: RateLimitStats = { sent429: 0, early: 0, byKey: {} };
  private readonly buckets = new Map<string, State>();

  constructor(
    private readonly opts: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The limit a call falls under, if any. */
  keyOf(method: string, body: Record<string, unknown>): { key: string; bucket: Bucket } | undefined {
    if (method === 'chat.postMessage' && this.opts.postPerChannel)
      return { key: `${method}:${String(body.channel ?? '')}`, bucket: this.opts.postPerChannel };
    const bucket = this.opts.tiers?.[method];
    return bucket ? { key: method, bucket } : undefined;
  }

  /** Takes a token, or returns the whole seconds to wait (at least 1, as Slack's header is in seconds). */
  check(method: string, body: Record<string, unknown>): number | undefined {
    const limit = this.keyOf(method, body);
    if (!limit) return undefined;
    const now = this.now();
    const s = this.buckets.get(limit.key) ?? { tokens: limit.bucket.burst, at: now, notBefore: 0 };
    this.buckets.set(limit.key, s);
    if (now < s.notBefore) this.stats.early++;
    s.tokens = Math.min(limit.bucket.burst, s.tokens + ((now - s.at) / 1000) * limit.bucket.perSecond);
    s.at = now;
    if (s.tokens >= 1) {
      s.tokens -= 1;
      return undefined;
    }
    const seconds = Math.max(1, Math.ceil((1 - s.tokens) / limit.bucket.perSecond));
    s.notBefore = Math.max(s.notBefore, now + seconds * 1000);
    this.stats.sent429++;
    this.stats.byKey[limit.key] = (this.stats.byKey[limit.key] ?? 0) + 1;
    return seconds;
  }
}
