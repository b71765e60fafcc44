import type { Redis } from 'ioredis';
import { Counter, Histogram, Registry } from 'prom-client';
import { investigationMetricsText } from '../jobs/metrics.ts';

/**
 * `web`'s Prometheus metrics. Acks are counted in-process (prom-client); investigation outcomes and
 * latencies are recorded by workers in Redis and rendered from there on each scrape (see
 * src/jobs/metrics.ts), so one scrape of any web replica shows the cluster-wide totals.
 */
export class WebMetrics {
  readonly registry = new Registry();
  private readonly acks = new Counter({
    name: 'heal_acks_total',
    help: 'Slash-command acks sent, by kind (investigate, duplicate, help, error, unsupported).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly ackLatency = new Histogram({
    name: 'heal_ack_latency_seconds',
    help: 'Time from a /heal request reaching its listener to its ack.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly alerts = new Counter({
    name: 'heal_alerts_total',
    help: 'Alert messages seen in alert channels, by result (started, joined, duplicate_delivery).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  ack(kind: string, seconds: number): void {
    this.acks.inc({ kind });
    this.ackLatency.observe(seconds);
  }

  alert(result: string): void {
    this.alerts.inc({ result });
  }

  /** Prometheus text exposition: in-process metrics, then the Redis-backed investigation ones. */
  async text(): Promise<string> {
    const local = await this.registry.metrics();
    return `${local.trimEnd()}\n${await investigationMetricsText(this.redis, this.prefix)}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
