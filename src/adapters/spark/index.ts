import type { Target } from '../../core/target.ts';
import { noData, ok, type Upstream, upstreamError } from '../../core/upstream.ts';
import type { AdapterContext, Collection, PinResult, PipelineAdapter } from '../types.ts';
import { appPath, chooseAttempt, historyClient } from './client.ts';
import { collectSnapshot } from './collect.ts';
import { buildEvidence } from './evidence.ts';
import { sparkRules } from './rules.ts';
import { Application, type SparkSnapshot } from './schema.ts';

/**
 * Resolves a Spark target to an immutable application attempt on the History Server: the attempt
 * asked for, else the latest. Apps without attempt ids (standalone, Kubernetes, client mode) pin to
 * the app id alone; YARN cluster apps pin to `<appId>/<attempt>`.
 */
export async function pinSpark(target: Target, ctx: AdapterContext): Promise<Upstream<PinResult>> {
  if (target.platform !== 'spark') return upstreamError(`not a Spark target: ${target.platform}`, false);
  const client = historyClient(ctx);
  if (client.status !== 'ok') return client;
  const app = await client.data.get(appPath(target.appId), Application);
  if (app.status === 'no_data')
    return noData(
      `Spark application ${target.appId} not found on the History Server at ${client.data.base} (${app.message})`,
      app.httpStatus,
    );
  if (app.status === 'error')
    return upstreamError(
      `Spark History Server at ${client.data.base}: ${app.message}`,
      app.retryable,
      app.httpStatus,
    );
  const { found, known } = chooseAttempt(app.data.attempts, target.attempt);
  if (!found)
    return noData(
      target.attempt
        ? `Spark application ${target.appId} has no attempt ${target.attempt} on the History Server at ${client.data.base} (attempts: ${known.join(', ') || 'none'})`
        : `Spark application ${target.appId} has no attempts on the History Server at ${client.data.base}`,
    );
  const { attempt: _asked, ...rest } = target;
  const pinnedTarget: Target = { ...rest, ...(found.attemptId ? { attempt: found.attemptId } : {}) };
  const ref = found.attemptId ? `${target.appId}/${found.attemptId}` : target.appId;
  return ok({ pinned: { ref, codeRef: null, dataRef: null, deterministic: false }, target: pinnedTarget });
}

/** Spark on the History Server REST API: pin, collect (snapshot + evidence), deterministic rules. */
export const sparkAdapter = {
  platform: 'spark',
  pin: pinSpark,
  async collect(pin: PinResult, ctx: AdapterContext): Promise<Collection<SparkSnapshot>> {
    const { snapshot, gaps } = await collectSnapshot(pin, ctx);
    const { evidence, evidenceIndex } = buildEvidence(snapshot, gaps);
    return { evidence, evidenceIndex, gaps, facts: snapshot };
  },
  rules(collection: Collection<SparkSnapshot>, pin: PinResult) {
    return sparkRules(collection, pin);
  },
} satisfies PipelineAdapter<SparkSnapshot>;
