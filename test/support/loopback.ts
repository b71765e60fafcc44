import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import type { AdapterContext } from '../../src/adapters/types.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/logger.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Tiny HTTP servers on 127.0.0.1 for one test file, closed after each test. Call at the file's top level. */
export function loopbackServers(): {
  serve(handler: Handler): Promise<string>;
  /** Closes the server started last (to test a connection refused). */
  closeLast(): Promise<void>;
} {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });
  return {
    async serve(handler) {
      const server = createServer(handler);
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      closers.push(
        () =>
          new Promise<void>((ok) => {
            server.closeAllConnections();
            server.close(() => ok());
          }),
      );
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async closeLast() {
      await closers.pop()?.();
    },
  };
}

/** Answers `body` as JSON with `status`. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** An adapter context from environment variables, logging nothing. */
export function ctxFor(env: Record<string, string>): AdapterContext {
  return { config: loadConfig(env), log: createLogger('silent') };
}
