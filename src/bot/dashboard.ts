import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { CustomRoute } from '@slack/bolt';
import type { Queue } from 'bullmq';
import express from 'express';

/** Where the queue dashboard is served. */
export const DASHBOARD_PATH = '/admin/queues';

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a request carries the dashboard token: `Authorization: Bearer <token>`, or Basic with it as password. */
export function dashboardAuthorized(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const [scheme = '', value = ''] = header.split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer') return sameSecret(value, token);
  if (scheme.toLowerCase() !== 'basic') return false;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return sameSecret(decoded.slice(decoded.indexOf(':') + 1), token);
}

/**
 * The BullMQ dashboard (bull-board) for `queues` at {@link DASHBOARD_PATH}, as Bolt custom routes behind
 * HEAL_DASHBOARD_TOKEN (HTTP Basic, any user name, or a bearer token). Without a token: no routes.
 */
export function dashboardRoutes(token: string | undefined, queues: Queue[]): CustomRoute[] {
  if (!token) return [];
  const adapter = new ExpressAdapter();
  adapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: adapter });
  const app = express();
  app.disable('x-powered-by');
  app.use(DASHBOARD_PATH, adapter.getRouter());
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (!dashboardAuthorized(req.headers.authorization, token)) {
      res.writeHead(401, {
        'www-authenticate': 'Basic realm="Heal queues", charset="UTF-8"',
        'content-type': 'text/plain',
      });
      res.end('authentication required\n');
      return;
    }
    app(req as express.Request, res as express.Response);
  };
  return [{ path: `${DASHBOARD_PATH}{/*rest}`, method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], handler }];
}
