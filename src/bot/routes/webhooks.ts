import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { z } from 'zod';
import { errorMessage } from '../../core/errors.ts';
import type { Target } from '../../core/target.ts';
import type { BotDeps } from '../deps.ts';
import { BodyError, readBody, refuse } from './body.ts';
import { type Intake, reportFailure } from './intake.ts';
import {
  AirflowAlert,
  airflowTarget,
  DbtCloudEvent,
  dbtEventFailed,
  GenericAlert,
  genericTarget,
  type ParsedTarget,
} from './payloads.ts';

/** A refusal: the HTTP status and a stable error code plus plain words. */
export class WebhookError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Webhook bodies arrive at most this slowly (the guard in front of the routes uses the same). */
export const BODY_TIMEOUT_MS = 10_000;

/** The body the receiver's guard already read under HEAL_MAX_BODY_BYTES, or read it here (Socket Mode). */
function bodyOf(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const raw = (req as IncomingMessage & { rawBody?: unknown }).rawBody;
  if (Buffer.isBuffer(raw)) return Promise.resolve(raw);
  return readBody(req, { maxBytes, timeoutMs: BODY_TIMEOUT_MS });
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** dbt Cloud signs the raw body: `Authorization: <hex HMAC-SHA256(secret, body)>`. */
export function dbtSignature(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

function verifyDbt(req: IncomingMessage, body: Buffer, secret: string | undefined): void {
  if (!secret)
    throw new WebhookError(
      403,
      'not_enabled',
      'dbt Cloud webhooks are off: HEAL_DBT_WEBHOOK_SECRET is not set',
    );
  const given = req.headers.authorization?.trim().toLowerCase();
  if (!given)
    throw new WebhookError(401, 'unsigned', 'missing Authorization header (dbt Cloud HMAC signature)');
  if (!sameSecret(given, dbtSignature(secret, body)))
    throw new WebhookError(401, 'bad_signature', 'Authorization does not match the HMAC-SHA256 of the body');
}

function verifyToken(req: IncomingMessage, token: string | undefined): void {
  if (!token) return;
  const auth = req.headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  const given = auth ?? (req.headers['x-heal-token'] as string | undefined);
  if (!given)
    throw new WebhookError(401, 'unauthenticated', 'missing Authorization: Bearer <HEAL_WEBHOOK_TOKEN>');
  if (!sameSecret(given.trim(), token)) throw new WebhookError(401, 'bad_token', 'wrong webhook token');
}

function parseJson<T extends z.ZodType>(schema: T, body: Buffer): z.infer<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WebhookError(400, 'invalid_json', 'body is not JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new WebhookError(400, 'invalid_payload', issues.slice(0, 5).join('; '));
  }
  return parsed.data;
}

/** What a verified payload turns into: a failure to report, or a reason it is not one. */
type Decision =
  | { kind: 'report'; target: Target; deliveryId: string; label?: string; channel?: string }
  | { kind: 'ignore'; reason: string };

function must(t: ParsedTarget): Target {
  if (!t.ok) throw new WebhookError(400, 'invalid_target', t.error);
  return t.target;
}

function decideAirflow(req: IncomingMessage, body: Buffer, deps: BotDeps): Decision {
  verifyToken(req, deps.config.HEAL_WEBHOOK_TOKEN);
  const a = parseJson(AirflowAlert, body);
  const target = must(airflowTarget(a));
  const run = a.run_id ?? `@${a.logical_date}`;
  const deliveryId = `airflow:${a.dag_id}:${run}:${a.task_id ?? ''}:${a.try_number ?? ''}`;
  return { kind: 'report', target, deliveryId, ...(a.task_id ? { label: a.task_id } : {}) };
}

function decideDbt(req: IncomingMessage, body: Buffer, deps: BotDeps): Decision {
  verifyDbt(req, body, deps.config.HEAL_DBT_WEBHOOK_SECRET);
  const e = parseJson(DbtCloudEvent, body);
  const age = Math.abs(Date.now() - Date.parse(e.timestamp));
  if (age > deps.config.HEAL_WEBHOOK_MAX_AGE_MS)
    throw new WebhookError(
      400,
      'stale_event',
      `event timestamp ${e.timestamp} is ${Math.round(age / 1000)} s from now`,
    );
  if (!dbtEventFailed(e))
    return { kind: 'ignore', reason: `${e.eventType} (${e.data.runStatus ?? 'no status'}) is not a failure` };
  const target = { platform: 'dbt' as const, cloudRunId: e.data.runId };
  return {
    kind: 'report',
    target,
    deliveryId: `dbt-cloud:${e.eventId}`,
    label: e.data.jobName ?? `job ${e.data.jobId}`,
  };
}

function decideGeneric(req: IncomingMessage, body: Buffer, deps: BotDeps): Decision {
  verifyToken(req, deps.config.HEAL_WEBHOOK_TOKEN);
  const g = parseJson(GenericAlert, body);
  const allowed = [deps.config.HEAL_WEBHOOK_CHANNEL, ...deps.config.HEAL_ALERT_CHANNELS];
  if (g.channel && !allowed.includes(g.channel))
    throw new WebhookError(
      400,
      'channel_not_allowed',
      `${g.channel} is not HEAL_WEBHOOK_CHANNEL or an alert channel`,
    );
  const target = must(genericTarget(g, deps.config.HEAL_DBT_ROOTS));
  return {
    kind: 'report',
    target,
    deliveryId: `generic:${g.id ?? body.toString('utf8')}`,
    ...(g.summary ? { label: g.summary.slice(0, 120) } : {}),
    ...(g.channel ? { channel: g.channel } : {}),
  };
}

const SOURCES = { airflow: decideAirflow, 'dbt-cloud': decideDbt, generic: decideGeneric } as const;
export type WebhookSource = keyof typeof SOURCES;

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(`${JSON.stringify(body)}\n`);
}

/** Handles one webhook: verify, parse, dedup the delivery, then report the failure (never throws). */
export async function handleWebhook(
  source: WebhookSource,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { deps: BotDeps; intake: Intake },
): Promise<void> {
  const { deps } = ctx;
  const log = deps.log.child({ webhook: source });
  try {
    const channel = deps.config.HEAL_WEBHOOK_CHANNEL;
    if (!channel) throw new WebhookError(503, 'not_configured', 'HEAL_WEBHOOK_CHANNEL is not set');
    const body = await bodyOf(req, deps.config.HEAL_MAX_BODY_BYTES);
    const d = SOURCES[source](req, body, deps);
    if (d.kind === 'ignore') {
      log.info({ reason: d.reason }, 'webhook ignored');
      return send(res, 202, { ok: true, status: 'ignored', reason: d.reason });
    }
    if (!(await deps.incidents.firstDelivery(`webhook:${d.deliveryId}`))) {
      log.info({ deliveryId: d.deliveryId }, 'webhook delivery already handled');
      return send(res, 200, { ok: true, status: 'duplicate' });
    }
    const r = await reportFailure(deps, ctx.intake, {
      target: d.target,
      channel: d.channel ?? channel,
      source: 'alert',
      via: `webhook ${source}`,
      ...(d.label ? { label: d.label } : {}),
    });
    send(res, 202, { ok: true, status: r.kind, incidentId: r.incidentId, grouped: r.count });
  } catch (err) {
    if (err instanceof BodyError) {
      log.warn({ status: err.status, code: err.code }, 'webhook body refused');
      return refuse(req, res, err.status, { ok: false, error: err.code, message: err.message });
    }
    if (err instanceof WebhookError) {
      log.warn({ status: err.status, code: err.code, err: err.message }, 'webhook refused');
      return send(res, err.status, { ok: false, error: err.code, message: err.message });
    }
    log.error({ err: errorMessage(err) }, 'webhook failed');
    send(res, 500, { ok: false, error: 'internal', message: 'Heal could not take this alert; retry later' });
  }
}

/** `POST /alerts/airflow`, `/alerts/dbt-cloud`, `/alerts/generic` as Bolt custom routes. */
export function webhookRoutes(ctx: () => { deps: BotDeps; intake: Intake } | undefined): CustomRoute[] {
  return (Object.keys(SOURCES) as WebhookSource[]).map((source) => ({
    path: `/alerts/${source}`,
    method: ['POST'],
    handler: (req, res) => {
      const c = ctx();
      if (!c) return send(res, 503, { ok: false, error: 'starting', message: 'Heal is starting; retry' });
      void handleWebhook(source, req, res, c);
    },
  }));
}
