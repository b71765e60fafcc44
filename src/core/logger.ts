import { pino } from 'pino';

/** Structured logs on stderr (stdout stays clean for `--json`). */
export function createLogger(level = 'info', name = 'heal') {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}
export type Logger = ReturnType<typeof createLogger>;
