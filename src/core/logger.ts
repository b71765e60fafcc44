import { pino } from 'pino';

/**
 * Structured logs on stderr (stdout stays clean for `--json`), written asynchronously: a synchronous write
 * blocks the event loop whenever stderr's reader (a log shipper, a supervisor) lags, which shows up in ack
 * latency (docs/benchmarks.md). Pino flushes the buffer on exit; only a SIGKILL can lose the last lines.
 */
export function createLogger(level = 'info', name = 'heal') {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}
export type Logger = ReturnType<typeof createLogger>;
