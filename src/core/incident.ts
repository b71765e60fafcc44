import { createHash } from 'node:crypto';
import { type Target, targetKey } from './target.ts';

/** Deterministic incident id for a target: `inc_` + 16 hex chars of sha256(targetKey). */
export function incidentId(target: Target): string {
  return `inc_${createHash('sha256').update(targetKey(target)).digest('hex').slice(0, 16)}`;
}
