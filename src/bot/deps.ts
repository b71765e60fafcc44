import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { Platform } from '../core/target.ts';
import type { AuditLog } from '../jobs/audit.ts';
import type { Digest } from '../jobs/digest.ts';
import type { FixJobData } from '../jobs/fix.ts';
import type { FixStore } from '../jobs/fix-state.ts';
import type { IncidentStore } from '../jobs/incidents.ts';
import type { InvestigateJobData, RemediateJobData } from '../jobs/queue.ts';
import type { SlackMessage } from '../report/types.ts';
import type { WebMetrics } from './metrics.ts';

/** The Slack Web API calls the button / home listeners make (Bolt's client in server.ts, a fake in tests). */
export interface BotSlack {
  postEphemeral(channel: string, user: string, msg: SlackMessage, threadTs?: string): Promise<void>;
  update(channel: string, ts: string, msg: SlackMessage): Promise<void>;
  /** Members of a user group (`usergroups.users.list`). */
  usergroupMembers(usergroup: string): Promise<string[]>;
  /** Publishes the App Home tab (`views.publish`). */
  publishHome(user: string, view: { type: 'home'; blocks: unknown[] }): Promise<void>;
  /** Opens a modal (`views.open`) with a click's trigger_id (the approve-fix modal). */
  openView?(triggerId: string, view: Record<string, unknown>): Promise<void>;
}

/** What the listeners need, injected by server.ts (and by tests) instead of module singletons. */
export interface BotDeps {
  config: Config;
  log: Logger;
  incidents: IncidentStore;
  enqueue(data: InvestigateJobData): Promise<void>;
  /** Ephemeral follow-ups after the ack (e.g. when enqueueing failed). */
  postEphemeral(channel: string, user: string, text: string): Promise<void>;
  metrics: WebMetrics;
  isSupported(platform: Platform): boolean;
  /** The audit log every click is written to (including refusals). */
  audit: AuditLog;
  /** Enqueues a rerun on the `remediate` queue (the worker does the platform calls). */
  enqueueRemediate(data: RemediateJobData): Promise<void>;
  slack: BotSlack;
  /** Enqueues an approved fix on the `fix` queue (the worker does the git and GitHub calls); returns the job id. */
  enqueueFix?(data: FixJobData): Promise<string>;
  /** The incident's approved-fix state (claimed once). */
  fixes?: FixStore;
  /** The last 7 days' digest (`/heal digest`), computed from Redis. */
  digest?(): Promise<Digest>;
}
