import type { ServerResponse } from 'node:http';
import { App, type Logger as BoltLogger, type CustomRoute, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { type Config, requireSlack } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { AuditLog } from '../jobs/audit.ts';
import { lastWeekDigest } from '../jobs/digest.ts';
import { FixStore } from '../jobs/fix-state.ts';
import { createFixQueue, enqueueApprovedFix } from '../jobs/fix-worker.ts';
import { AlertGroups, createIntakeQueue } from '../jobs/grouping.ts';
import { IncidentStore } from '../jobs/incidents.ts';
import {
  createInvestigateQueue,
  createRedis,
  createRemediateQueue,
  enqueueInvestigation,
  enqueueRemediation,
  isSupportedPlatform,
} from '../jobs/queue.ts';
import { loadAlertRules } from './alert-rules.ts';
import { dashboardRoutes } from './dashboard.ts';
import type { BotDeps, BotSlack } from './deps.ts';
import { registerAlertMessage } from './listeners/alert-message.ts';
import { registerAppHome } from './listeners/app-home.ts';
import { registerApproveFix } from './listeners/approve-fix.ts';
import { registerDismiss } from './listeners/dismiss.ts';
import { registerFeedback } from './listeners/feedback.ts';
import { registerFixSubmit } from './listeners/fix-submit.ts';
import { registerHealCommand } from './listeners/heal-command.ts';
import { registerRerun } from './listeners/rerun.ts';
import { registerRerunConfirm } from './listeners/rerun-confirm.ts';
import { WebMetrics } from './metrics.ts';
import { GuardedHTTPReceiver } from './receiver.ts';
import { BodyBudget } from './routes/body.ts';
import { createIntake, type Intake } from './routes/intake.ts';
import { BODY_TIMEOUT_MS, webhookRoutes } from './routes/webhooks.ts';

export interface WebHandle {
  /** The HTTP port actually listened on. */
  port: number;
  close(): Promise<void>;
}

/** Bolt's own logs through pino (stderr), at warn and above unless LOG_LEVEL asks for more. */
function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  return {
    debug: (...m) => child.debug(m.map(String).join(' ')),
    info: (...m) => child.info(m.map(String).join(' ')),
    warn: (...m) => child.warn(m.map(String).join(' ')),
    error: (...m) => child.error(m.map(String).join(' ')),
    setLevel: () => undefined,
    getLevel: () => LogLevel.WARN,
    setName: () => undefined,
  };
}

/**
 * `GET /healthz`: 200 `ok` when web is started and its Redis connection is ready; 503 `starting`, or 503
 * `redis <status>` while Redis is unreachable (ioredis reconnects on its own; the probe shows the outage).
 */
function routes(
  metrics: WebMetrics,
  isReady: () => boolean,
  log: Logger,
  redisStatus: () => string = () => 'ready',
): CustomRoute[] {
  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  return [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req, res) => {
        if (!isReady()) return send(res, 503, 'text/plain', 'starting\n');
        const status = redisStatus();
        if (status !== 'ready') return send(res, 503, 'text/plain', `redis ${status}\n`);
        send(res, 200, 'text/plain', 'ok\n');
      },
    },
    {
      path: '/metrics',
      method: ['GET'],
      handler: (_req, res) => {
        metrics.text().then(
          (text) => send(res, 200, metrics.contentType, text),
          (err) => {
            log.error({ err: errorMessage(err) }, 'metrics scrape failed');
            send(res, 500, 'text/plain', 'metrics unavailable\n');
          },
        );
      },
    },
  ];
}

/** What the HTTP receiver's guard needs from web: Redis for replay claims, the webhook paths, the log. */
interface GuardDeps {
  redis: ReturnType<typeof createRedis>;
  bodyPaths: string[];
  log: Logger;
}

function receiverFor(
  config: Config,
  signingSecret: string,
  customRoutes: CustomRoute[],
  logger: BoltLogger,
  guard: GuardDeps,
) {
  if (config.SLACK_APP_TOKEN)
    return new SocketModeReceiver({
      appToken: config.SLACK_APP_TOKEN,
      customRoutes,
      installerOptions: { port: config.PORT },
      logger,
    });
  // Bolt verifies X-Slack-Signature / X-Slack-Request-Timestamp (401 otherwise) and answers url_verification;
  // the guard first bounds the body, refuses future-dated, malformed and replayed requests (receiver.ts).
  const maxBytes = config.HEAL_MAX_BODY_BYTES;
  const prefix = config.HEAL_QUEUE_PREFIX;
  return new GuardedHTTPReceiver(
    { signingSecret, endpoints: ['/slack/events'], customRoutes, logger },
    {
      limits: { maxBytes, timeoutMs: BODY_TIMEOUT_MS, budget: new BodyBudget(32 * maxBytes) },
      bodyPaths: guard.bodyPaths,
      claim: async (key, ttlMs) =>
        (await guard.redis.set(`${prefix}:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK',
      reachable: () => guard.redis.status === 'ready',
      log: guard.log.child({ component: 'guard' }),
    },
  );
}

/** The listeners' Slack calls through Bolt's WebClient (messages are fitted by the renderers). */
function boltSlack(app: App): BotSlack {
  return {
    async postEphemeral(channel, user, msg, threadTs) {
      await app.client.chat.postEphemeral({
        channel,
        user,
        ...msg,
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
    },
    async update(channel, ts, msg) {
      await app.client.chat.update({ channel, ts, ...msg });
    },
    async usergroupMembers(usergroup) {
      const res = await app.client.usergroups.users.list({ usergroup });
      return res.users ?? [];
    },
    async publishHome(user, view) {
      // biome-ignore lint/suspicious/noExplicitAny: Block Kit blocks are validated by the renderers
      await app.client.views.publish({ user_id: user, view: view as any });
    },
    async openView(triggerId, view) {
      // biome-ignore lint/suspicious/noExplicitAny: the modal is checked against Slack's limits by its renderer
      await app.client.views.open({ trigger_id: triggerId, view: view as any });
    },
  };
}

/**
 * `heal web`: Bolt over HTTP on PORT (`POST /slack/events`, `GET /healthz`, `GET /metrics`), or Socket
 * Mode when SLACK_APP_TOKEN is set. Acks `/heal` after one Redis claim and enqueues; the worker posts.
 */
export async function startWeb(config: Config, log: Logger): Promise<WebHandle> {
  const { botToken, signingSecret } = requireSlack(config, { web: true });
  const redis = createRedis(config, { worker: false });
  const queue = createInvestigateQueue(redis, config.HEAL_QUEUE_PREFIX);
  const remediateQueue = createRemediateQueue(redis, config.HEAL_QUEUE_PREFIX);
  const fixQueue = createFixQueue(redis, config.HEAL_QUEUE_PREFIX);
  const metrics = new WebMetrics(redis, config.HEAL_QUEUE_PREFIX);
  let ready = false;
  const logger = boltLogger(log);
  // Intake (issue 8): alert rules, failure groups and the counter-update queue; webhooks once deps exist.
  const rules = loadAlertRules(config.HEAL_ALERT_RULES_FILE);
  const intakeQueue = createIntakeQueue(redis, config.HEAL_QUEUE_PREFIX);
  let webhookCtx: { deps: BotDeps; intake: Intake } | undefined;
  const hooks = webhookRoutes(() => webhookCtx);
  const receiver = receiverFor(
    config,
    signingSecret,
    [
      ...routes(
        metrics,
        () => ready,
        log,
        () => redis.status,
      ),
      ...hooks,
      ...dashboardRoutes(config.HEAL_DASHBOARD_TOKEN, [queue, remediateQueue, intakeQueue]),
    ],
    logger,
    { redis, bodyPaths: hooks.map((h) => h.path), log },
  );
  const app = new App({
    token: botToken,
    receiver,
    logger,
    clientOptions: { slackApiUrl: config.SLACK_API_URL },
  });
  const deps: BotDeps = {
    config,
    log,
    incidents: new IncidentStore(redis, config.HEAL_QUEUE_PREFIX, log),
    enqueue: (data) => enqueueInvestigation(queue, data),
    postEphemeral: async (channel, user, text) => {
      await app.client.chat.postEphemeral({ channel, user, text });
    },
    metrics,
    isSupported: isSupportedPlatform,
    audit: new AuditLog(redis, config.HEAL_QUEUE_PREFIX),
    enqueueRemediate: (data) => enqueueRemediation(remediateQueue, data),
    slack: boltSlack(app),
    enqueueFix: (data) => enqueueApprovedFix(fixQueue, data),
    fixes: new FixStore(redis, new IncidentStore(redis, config.HEAL_QUEUE_PREFIX, log)),
    digest: () => lastWeekDigest({ redis, prefix: config.HEAL_QUEUE_PREFIX, incidents: deps.incidents }),
  };
  const groups = new AlertGroups(redis, config.HEAL_QUEUE_PREFIX, deps.incidents, {
    suppressMs: config.HEAL_SUPPRESS_MS,
  });
  const intake = createIntake(groups, intakeQueue, config.HEAL_GROUP_SUMMARY_MS);
  webhookCtx = { deps, intake };
  registerHealCommand(app, deps, intake);
  registerAlertMessage(app, deps, { intake, rules });
  registerRerun(app, deps);
  registerRerunConfirm(app, deps);
  registerDismiss(app, deps);
  registerFeedback(app, deps);
  registerApproveFix(app, deps);
  registerFixSubmit(app, deps);
  registerAppHome(app, deps);
  app.error(async (err) => log.error({ err: errorMessage(err) }, 'bolt listener error'));
  await queue.waitUntilReady();
  await app.start(config.PORT);
  ready = true;
  log.info({ port: config.PORT, socketMode: Boolean(config.SLACK_APP_TOKEN) }, 'web ready');
  return {
    port: config.PORT,
    async close() {
      ready = false;
      await app.stop().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'bolt stop'));
      await Promise.all([queue.close(), remediateQueue.close(), intakeQueue.close(), fixQueue.close()]);
      await redis.quit().catch(() => undefined);
    },
  };
}
