import { getAdapter } from '../adapters/registry.ts';
import type { AdapterContext, Collection, PinResult } from '../adapters/types.ts';
import { PermanentError } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import type { Target } from '../core/target.ts';
import type { Upstream } from '../core/upstream.ts';
import { buildReport } from './engine.ts';
import { type CollectionWithLinks, followLinks, mergeLinked } from './links.ts';

function adapterFor(target: Target) {
  const adapter = getAdapter(target.platform);
  if (!adapter) throw new PermanentError(`${target.platform} is not supported yet.`);
  return adapter;
}

/** Step 1: resolve the target to an immutable failing state. */
export function pinStep(target: Target, ctx: AdapterContext): Promise<Upstream<PinResult>> {
  return adapterFor(target).pin(target, ctx);
}

/**
 * Step 2: collect evidence for the pinned state, then follow the runs it launched on other platforms
 * (never throws for upstream failures).
 */
export async function collectStep(pin: PinResult, ctx: AdapterContext): Promise<CollectionWithLinks> {
  const collection = await adapterFor(pin.target).collect(pin, ctx);
  return followLinks(collection, ctx);
}

/** Step 3: run the platform rules (and the linked runs' rules) and the engine's discipline; pure. */
export function diagnoseStep(incidentId: string, pin: PinResult, collection: Collection): Report {
  const { linked, ...own } = collection as CollectionWithLinks;
  const outcome = adapterFor(pin.target).rules(own, pin);
  if (!linked?.length) return buildReport({ incidentId, pin, collection: own, outcome });
  const children = linked.map((run) => ({
    run,
    outcome: adapterFor(run.pin.target).rules(run.collection, run.pin),
  }));
  const merged = mergeLinked(own, outcome, children);
  return buildReport({ incidentId, pin, ...merged });
}
