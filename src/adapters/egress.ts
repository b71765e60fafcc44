import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
// ipaddr.js classifies addresses: it is small and well kept, knows the special-purpose ranges, and handles
// the odd forms hand-written checks get wrong (IPv4-mapped IPv6, compressed IPv6, zone ids).
import ipaddr from 'ipaddr.js';
import type { Config } from '../core/config.ts';
import { type HostPattern, hostMatches, parseHostPattern } from '../core/host-pattern.ts';
import { redact } from '../core/redact.ts';

/**
 * Where Heal may send a request. Platform data (executor log links in the History Server's answers, a
 * redirect's Location) chooses URLs; this policy chooses which of them are fetched: only hosts the operator
 * configured (SPARK_HISTORY_URL, AIRFLOW_BASE_URL, DBT_CLOUD_URL, each on its own port) or listed in
 * HEAL_FETCH_ALLOW_HOSTS, and never a link-local, cloud-metadata, unspecified, multicast or broadcast address.
 */
export interface EgressPolicy {
  allow: HostPattern[];
}

/** Why a URL is not fetched: never fetchable, not on the allow-list, or not an http(s) URL Heal can use. */
export type Refusal = 'forbidden' | 'not_allowed' | 'invalid';

export type EgressVerdict = { ok: true; url: URL } | { ok: false; refusal: Refusal; reason: string };

const CONFIGURED = ['SPARK_HISTORY_URL', 'AIRFLOW_BASE_URL', 'DBT_CLOUD_URL'] as const;

/** Cloud instance-metadata endpoints outside the link-local ranges (those are refused as a whole). */
const METADATA_ADDRESSES = new Map([
  ['100.100.100.200', 'Alibaba Cloud metadata'],
  ['fd00:ec2::254', 'AWS IPv6 metadata'],
]);

/** Names of metadata services, refused before any DNS lookup. */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

const defaultPort = (u: URL) => (u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80);

/** A URL's hostname without IPv6 brackets or a trailing dot. */
const bareHost = (u: URL) => u.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');

/** The configured platform base URL as an exact host-and-port pattern. */
function configuredPattern(raw: string | undefined): HostPattern | undefined {
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    const parsed = parseHostPattern(`${u.hostname}:${defaultPort(u)}`);
    return parsed.ok ? parsed.pattern : undefined;
  } catch {
    return undefined;
  }
}

const cache = new WeakMap<Config, EgressPolicy>();

/** The policy for a config (cached per config object; the CLI's per-run config gets its own). */
export function egressPolicy(config: Config): EgressPolicy {
  const hit = cache.get(config);
  if (hit) return hit;
  const configured = CONFIGURED.map((k) => configuredPattern(config[k]));
  const listed = (config.HEAL_FETCH_ALLOW_HOSTS ?? []).map((p) => parseHostPattern(p));
  const allow = [
    ...configured.filter((p): p is HostPattern => p !== undefined),
    ...listed.flatMap((p) => (p.ok ? [p.pattern] : [])),
  ];
  const policy = { allow };
  cache.set(config, policy);
  return policy;
}

/** IPv4 addresses carried inside IPv6 ones that some networks route as IPv4 (NAT64, 6to4, IPv4-compatible). */
function embeddedV4(a: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = a.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  const range = a.range();
  if (range === 'rfc6052' || range === 'rfc6145') return v4(p[6] ?? 0, p[7] ?? 0);
  if (range === '6to4') return v4(p[1] ?? 0, p[2] ?? 0);
  const compatible = p.slice(0, 6).every((x) => x === 0) && (p[6] ?? 0) !== 0;
  return compatible ? v4(p[6] ?? 0, p[7] ?? 0) : undefined;
}

function forbiddenV4(a: ipaddr.IPv4): string | undefined {
  const s = a.toString();
  const meta = METADATA_ADDRESSES.get(s);
  if (meta) return `${meta} address`;
  switch (a.range()) {
    case 'linkLocal':
      return s === '169.254.169.254' ? 'link-local address, cloud metadata' : 'link-local address';
    case 'unspecified':
      return 'unspecified address';
    case 'multicast':
      return 'multicast address';
    case 'broadcast':
      return 'broadcast address';
    default:
      return undefined;
  }
}

/**
 * Why an IP address is never connected to, whatever the allow-list says (link-local, cloud metadata,
 * unspecified, multicast, broadcast, and IPv6 forms wrapping such an IPv4 address); undefined when it may be.
 */
export function forbiddenAddress(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return undefined;
  const a = ipaddr.process(address); // IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes its IPv4 address
  if (a.kind() === 'ipv4') return forbiddenV4(a as ipaddr.IPv4);
  const v6 = a as ipaddr.IPv6;
  const meta = METADATA_ADDRESSES.get(v6.toRFC5952String());
  if (meta) return `${meta} address`;
  const range = v6.range();
  if (range === 'linkLocal') return 'link-local address';
  if (range === 'unspecified') return 'unspecified address';
  if (range === 'multicast') return 'multicast address';
  const inner = embeddedV4(v6);
  const why = inner && forbiddenV4(inner);
  return why ? `${why} (${inner.toString()} inside an IPv6 address)` : undefined;
}

/** A URL as it may appear in a gap: scheme, host and path only (no credentials, no query), redacted, bounded. */
export function shownUrl(url: string | URL): string {
  let text: string;
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    text = `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    text = String(url).replace(/[?#].*$/, '');
  }
  return redact(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/** Decides whether a URL may be fetched under `policy`; never throws. */
export function checkEgress(url: string | URL, policy: EgressPolicy): EgressVerdict {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return { ok: false, refusal: 'invalid', reason: 'not a valid URL' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return { ok: false, refusal: 'invalid', reason: `not an http(s) URL (${u.protocol})` };
  const host = bareHost(u);
  const why = ipaddr.isValid(host)
    ? forbiddenAddress(host)
    : METADATA_NAMES.has(host)
      ? 'cloud metadata host'
      : '';
  const label = ipaddr.isValid(host) ? ipaddr.process(host).toString() : host;
  if (why) return { ok: false, refusal: 'forbidden', reason: `host ${label} is never fetched (${why})` };
  if (u.username || u.password)
    return { ok: false, refusal: 'invalid', reason: 'the URL carries credentials (user@host)' };
  const port = defaultPort(u);
  if (policy.allow.some((p) => hostMatches(p, host, port))) return { ok: true, url: u };
  return {
    ok: false,
    refusal: 'not_allowed',
    reason: `host ${u.hostname}:${port} is not in the allow-list (the configured platform hosts and HEAL_FETCH_ALLOW_HOSTS)`,
  };
}

/** The error a guarded lookup fails with; the request never connects. */
export class EgressRefusedError extends Error {
  readonly code = 'HEAL_EGRESS_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'EgressRefusedError';
  }
}

type Resolver = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** The shape of `net.connect`'s `lookup` option. */
export type LookupFn = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/**
 * A `lookup` for `net.connect` that resolves every address of a name and refuses the connection when any of
 * them is forbidden. It runs inside the connect itself, so the address checked is the address connected to
 * (no window for DNS rebinding between a check and the connection).
 */
export function lookupGuard(resolve: Resolver = (h, o, cb) => dnsLookup(h, o, cb)): LookupFn {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const why = forbiddenAddress(a.address);
        if (why)
          return callback(new EgressRefusedError(`host ${hostname} resolves to ${a.address} (${why})`), []);
      }
      const first = addresses[0];
      if (options.all) return callback(null, addresses);
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

/** The guarded lookup every platform request connects through. */
export const guardedLookup: LookupFn = lookupGuard();
