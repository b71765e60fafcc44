// undici is the library Node's own fetch is built from. Its own `fetch` is used, not the global one, so the
// Agent given as dispatcher is always of the same version as the fetch using it.
import { Agent, fetch, type Response } from 'undici';
import { guardedLookup } from './egress.ts';

/** One request of openUrl's hop-by-hop walk: redirects are never followed here (http.ts decides). */
export interface HopRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

/**
 * The pool every platform request uses. Each of its connections resolves the host name through
 * {@link guardedLookup} (net.connect's `lookup` option), so the address checked is the address connected to;
 * and it is private, so a reused socket is only ever one that guardedLookup let connect.
 */
const agent = new Agent({ connect: { lookup: guardedLookup }, keepAliveTimeout: 10_000 });

/**
 * Sends one request, returning the response as it is (a 3xx included). Rejects with the signal's reason on
 * timeout or abort, and otherwise with undici's `TypeError: fetch failed` whose `cause` is the network error
 * (an `EgressRefusedError`, code `HEAL_EGRESS_REFUSED`, when guardedLookup refused the address).
 */
export function sendHop(url: URL, req: HopRequest): Promise<Response> {
  return fetch(url, { ...req, redirect: 'manual', dispatcher: agent });
}
