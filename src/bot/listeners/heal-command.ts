import type { App } from '@slack/bolt';
import { errorMessage, publicReason } from '../../core/errors.ts';
import { incidentId } from '../../core/incident.ts';
import { untrustedPathRefusal } from '../../core/local-paths.ts';
import { describeTarget, parseTarget, type Target } from '../../core/target.ts';
import type { IncidentRecord } from '../../jobs/incidents.ts';
import { listIncidentsCounted } from '../../jobs/views.ts';
import { renderAck, renderAlreadyRunning, renderHelp, renderTargetError } from '../../report/blocks.ts';
import { renderDigest } from '../../report/digest.ts';
import type { SlackMessage } from '../../report/types.ts';
import { renderHistory, renderHistoryUsage, renderStatus } from '../../report/views.ts';
import type { BotDeps } from '../deps.ts';
import type { Intake } from '../routes/intake.ts';
import { renderStoreUnreachable, withinAck } from '../store-deadline.ts';

/** What a `/heal` request turns into before anything is sent back. */
export type HealDecision =
  | { kind: 'help'; reply: SlackMessage }
  | { kind: 'error' | 'unsupported'; reply: SlackMessage }
  | { kind: 'investigate'; target: Target; incidentId: string };

/**
 * Pure: help, a specific error, "not supported yet", or a target to investigate. A local dbt path is accepted
 * only under `dbtRoots` (HEAL_DBT_ROOTS), with one refusal whether or not the path exists.
 */
export function decideHeal(
  text: string,
  isSupported: BotDeps['isSupported'],
  dbtRoots: readonly string[] = [],
): HealDecision {
  const trimmed = text.trim();
  if (/^(help|-h|--help|\?)$/i.test(trimmed)) return { kind: 'help', reply: renderHelp() };
  const parsed = parseTarget(trimmed);
  if (!parsed.ok) return { kind: 'error', reply: renderTargetError(parsed.error) };
  const { target } = parsed;
  if (!isSupported(target.platform)) {
    const msg = `${target.platform} is not supported yet (you asked for \`${describeTarget(target)}\`).`;
    return { kind: 'unsupported', reply: renderTargetError(msg) };
  }
  const refused = untrustedPathRefusal(target, dbtRoots);
  if (refused) return { kind: 'error', reply: renderTargetError(refused) };
  return { kind: 'investigate', target, incidentId: incidentId(target) };
}

interface CommandInfo {
  text: string;
  channel_id: string;
  user_id: string;
}

type Ack = (msg: SlackMessage & { response_type: 'ephemeral' }) => Promise<void>;

/**
 * Claims the incident (one Redis call), acks, then enqueues. A duplicate joins the existing thread:
 * its ack links it (the worker stores the parent's permalink) and nothing is enqueued. When Redis is down
 * or slow, the ack says so within Slack's 3 s (store-deadline.ts); a claim Redis answers later is still
 * enqueued, and the user is told.
 */
async function investigate(
  deps: BotDeps,
  cmd: CommandInfo,
  requested: Target,
  requestedId: string,
  ack: Ack,
  intake?: Intake,
) {
  const t0 = performance.now();
  const bounded = await withinAck(deps.incidents, () =>
    claimOrGroup(deps, cmd, requested, requestedId, intake),
  );
  if (!bounded.ok) {
    await ack({ response_type: 'ephemeral', ...renderStoreUnreachable() });
    deps.metrics.ack('store_unreachable', (performance.now() - t0) / 1000);
    bounded.late
      ?.then(async (late) => {
        if (!late.claimed) return;
        await enqueueClaimed(deps, cmd, late.id, late.target);
        await deps.postEphemeral(
          cmd.channel_id,
          cmd.user_id,
          `Heal's store answered late: investigating ${late.id} after all.`,
        );
      })
      .catch((err) => deps.log.error({ err: errorMessage(err) }, 'late /heal claim not completed'));
    return;
  }
  const claim = bounded.value;
  // Grouped: the incident of the failure's group (e.g. the DAG run an alert already opened).
  const { id, target } = claim;
  if (!claim.claimed) {
    await ack({ response_type: 'ephemeral', ...renderAlreadyRunning(id, claim.existing.permalink) });
    deps.metrics.ack('duplicate', (performance.now() - t0) / 1000);
    return;
  }
  await ack({ response_type: 'ephemeral', ...renderAck(id, target) });
  deps.metrics.ack('investigate', (performance.now() - t0) / 1000);
  await enqueueClaimed(deps, cmd, id, target);
}

/** Enqueues a claimed investigation; when that fails, the claim is marked failed and the user told. */
async function enqueueClaimed(deps: BotDeps, cmd: CommandInfo, id: string, target: Target): Promise<void> {
  try {
    await deps.enqueue({
      incidentId: id,
      target,
      channel: cmd.channel_id,
      requestedBy: cmd.user_id,
      source: 'command',
    });
  } catch (err) {
    deps.log.error({ incidentId: id, err: errorMessage(err) }, 'could not enqueue the investigation');
    await deps.incidents
      .checkpoint(id, 'failed', { error: `could not be queued: ${publicReason(err)}` })
      .catch((e) => deps.log.warn({ incidentId: id, err: errorMessage(e) }, 'claim not marked failed'));
    await deps.postEphemeral(
      cmd.channel_id,
      cmd.user_id,
      `Heal could not start ${id}: ${publicReason(err)}. Try again.`,
    );
  }
}

/** Without intake: the plain claim of the requested target; with it, the failure's group decides. */
async function claimOrGroup(
  deps: BotDeps,
  cmd: CommandInfo,
  target: Target,
  id: string,
  intake?: Intake,
): Promise<
  | { claimed: true; id: string; target: Target }
  | { claimed: false; id: string; target: Target; existing: IncidentRecord }
> {
  const input = { target, channel: cmd.channel_id, requestedBy: cmd.user_id, source: 'command' as const };
  if (!intake) {
    const claim = await deps.incidents.claim({ ...input, incidentId: id });
    return claim.claimed
      ? { claimed: true, id, target }
      : { claimed: false, id, target, existing: claim.existing };
  }
  const res = await intake.groups.intake({ ...input, via: '/heal', label: `<@${cmd.user_id}>` });
  if (res.count > 1)
    await intake
      .scheduleSummary(res.groupId)
      .catch((err) => deps.log.warn({ err: errorMessage(err) }, 'group counter not scheduled'));
  if (res.kind === 'started') return { claimed: true, id: res.incidentId, target: res.target };
  if (res.kind === 'joined') return { claimed: false, id: res.incidentId, target, existing: res.existing };
  // Commands are never suppressed (the group only suppresses alerts); kept for the type.
  const existing = await deps.incidents.get(res.incidentId);
  if (!existing) throw new Error(`incident ${res.incidentId} vanished`);
  return { claimed: false, id: res.incidentId, target, existing };
}

/** `/heal status` or `/heal history [<name>]`, when the text is one of them. */
export function listRequest(
  text: string,
): { kind: 'status' } | { kind: 'digest' } | { kind: 'history'; name: string } | undefined {
  const t = text.trim();
  if (/^status$/i.test(t)) return { kind: 'status' };
  if (/^digest$/i.test(t)) return { kind: 'digest' };
  const h = t.match(/^history(?:\s+(\S.*))?$/i);
  if (h) return { kind: 'history', name: (h[1] ?? '').trim() };
  return undefined;
}

/** `/heal status` (open incidents) and `/heal history <dag|model|app>` (past incidents with root causes). */
export async function answerList(
  deps: BotDeps,
  req: Exclude<NonNullable<ReturnType<typeof listRequest>>, { kind: 'digest' }>,
): Promise<SlackMessage> {
  if (req.kind === 'status') {
    const open = await listIncidentsCounted(deps.incidents, 'open', 50);
    return renderStatus(open.incidents, { unreadable: open.unreadable });
  }
  if (!req.name) return renderHistoryUsage();
  return renderHistory(
    req.name,
    (await listIncidentsCounted(deps.incidents, { name: req.name }, 50)).incidents,
  );
}

/**
 * `/heal digest`: the weekly digest of the last 7 days, on demand. Reading a busy week can take longer than
 * Slack's 3 s, so the ack comes first and the digest follows as an ephemeral message.
 */
async function answerDigest(deps: BotDeps, cmd: CommandInfo, ack: Ack): Promise<void> {
  if (!deps.digest) {
    await ack({ response_type: 'ephemeral', text: 'The digest is not available here.', blocks: [] });
    return;
  }
  await ack({ response_type: 'ephemeral', text: 'Reading the last 7 days of incidents…', blocks: [] });
  try {
    await deps.slack.postEphemeral(cmd.channel_id, cmd.user_id, renderDigest(await deps.digest()));
  } catch (err) {
    deps.log.warn({ err: errorMessage(err) }, '/heal digest failed');
    await deps.postEphemeral(
      cmd.channel_id,
      cmd.user_id,
      `Heal could not build the digest (${publicReason(err)}).`,
    );
  }
}

/** `/heal <target>`, `/heal help`, `/heal status`, `/heal history <name>`, `/heal digest`; replies are ephemeral. */
export function registerHealCommand(app: App, deps: BotDeps, intake?: Intake): void {
  app.command('/heal', async ({ command, ack }) => {
    const t0 = performance.now();
    const list = listRequest(command.text ?? '');
    if (list?.kind === 'digest') {
      await answerDigest(deps, command, ack);
      deps.metrics.ack('digest', (performance.now() - t0) / 1000);
      return;
    }
    if (list) {
      const reply = await withinAck(deps.incidents, () => answerList(deps, list)).then(
        (b) => (b.ok ? b.value : renderStoreUnreachable()),
        (err) => ({
          text: `Heal could not read the incidents right now (${publicReason(err)}). Try again in a minute.`,
          blocks: [],
        }),
      );
      await ack({ response_type: 'ephemeral', ...reply });
      deps.metrics.ack(list.kind, (performance.now() - t0) / 1000);
      return;
    }
    const decision = decideHeal(command.text ?? '', deps.isSupported, deps.config.HEAL_DBT_ROOTS);
    if (decision.kind !== 'investigate') {
      await ack({ response_type: 'ephemeral', ...decision.reply });
      deps.metrics.ack(decision.kind, (performance.now() - t0) / 1000);
      return;
    }
    try {
      await investigate(deps, command, decision.target, decision.incidentId, ack, intake);
    } catch (err) {
      deps.log.error({ err: errorMessage(err) }, '/heal failed');
      await ack({
        response_type: 'ephemeral',
        text: `Heal could not start this investigation right now (${publicReason(err)}). Try again in a minute.`,
        blocks: [],
      }).catch(() => undefined);
    }
  });
}
