import ipaddr from 'ipaddr.js';

/**
 * One entry of HEAL_FETCH_ALLOW_HOSTS: which hosts Heal may fetch URLs from when the URL comes from platform
 * data (executor log links). Grammar, case-insensitive, optional `:port` on every form (none: any port):
 *
 * - `nm-1.corp`            exactly that host name
 * - `*.nodemanager.corp`   any name ending in `.nodemanager.corp` (any depth), not `nodemanager.corp` itself
 * - `10.0.0.7`, `[fd12::7]` exactly that IP address (IPv6 always in brackets)
 * - `10.0.0.0/16`, `[fd12::/16]` an IP range in CIDR notation
 *
 * Name patterns match URLs written with a name, IP patterns match URLs written with an IP literal; a name is
 * not matched by the range its addresses fall in. No other wildcards (`*` alone, `nm-*`, `10.0.0.*`).
 */
export type HostPattern =
  | { kind: 'name'; name: string; port?: number; text: string }
  | { kind: 'suffix'; suffix: string; port?: number; text: string }
  | { kind: 'ip'; range: [ipaddr.IPv4 | ipaddr.IPv6, number]; port?: number; text: string };

export type PatternParse = { ok: true; pattern: HostPattern } | { ok: false; error: string };

/** One-line summary of the grammar, for error messages. */
export const HOST_PATTERN_GRAMMAR =
  'host, *.suffix, IPv4, [IPv6], IPv4/bits or [IPv6/bits], each with an optional :port';

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

function isName(s: string): boolean {
  return s.length <= 253 && s.split('.').every((l) => LABEL.test(l));
}

/** Splits `host[:port]` (IPv6 in brackets); undefined when the port is not 1-65535. */
function splitPort(text: string): { host: string; port?: number } | undefined {
  const m = text.match(/^(\[[^\]]*\]|[^:[\]]*)(?::(\d{1,5}))?$/);
  if (!m?.[1]) return undefined;
  if (m[2] === undefined) return { host: m[1] };
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1], port } : undefined;
}

function ipRange(host: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  const v6 = host.match(/^\[([^\]/]+)(?:\/(\d{1,3}))?\]$/);
  if (v6?.[1]) {
    if (!ipaddr.IPv6.isValid(v6[1])) return undefined;
    const bits = v6[2] === undefined ? 128 : Number(v6[2]);
    return bits <= 128 ? [ipaddr.IPv6.parse(v6[1]), bits] : undefined;
  }
  const v4 = host.match(/^([\d.]+)(?:\/(\d{1,2}))?$/);
  if (!v4?.[1] || !ipaddr.IPv4.isValidFourPartDecimal(v4[1])) return undefined;
  const bits = v4[2] === undefined ? 32 : Number(v4[2]);
  return bits <= 32 ? [ipaddr.IPv4.parse(v4[1]), bits] : undefined;
}

/** Parses one allow-list entry (see {@link HostPattern} for the grammar). */
export function parseHostPattern(raw: string): PatternParse {
  const text = raw.trim().toLowerCase();
  const bad = (why: string): PatternParse => ({ ok: false, error: `${raw.trim()}: ${why}` });
  const split = splitPort(text);
  if (!split) return bad(`not host[:port] with a port 1-65535 (${HOST_PATTERN_GRAMMAR})`);
  const { host, port } = split;
  const withPort = port === undefined ? {} : { port };
  if (host.startsWith('[') || /^[\d./]+$/.test(host)) {
    const range = ipRange(host);
    return range
      ? { ok: true, pattern: { kind: 'ip', range, ...withPort, text } }
      : bad('not a valid IP address or CIDR range (IPv6 goes in brackets: [fd12::/16])');
  }
  if (host.startsWith('*.')) {
    const suffix = host.slice(2).replace(/\.$/, '');
    return isName(suffix)
      ? { ok: true, pattern: { kind: 'suffix', suffix: `.${suffix}`, ...withPort, text } }
      : bad('a wildcard needs a domain after it, like *.nodemanager.corp');
  }
  const name = host.replace(/\.$/, '');
  return isName(name)
    ? { ok: true, pattern: { kind: 'name', name, ...withPort, text } }
    : bad(`not a host name (${HOST_PATTERN_GRAMMAR}; the only wildcard is a leading *.)`);
}

/**
 * Does `pattern` cover this host and port? `host` is a URL's hostname as the WHATWG parser normalised it
 * (lower case, IPv4 in dotted decimal, IPv6 without brackets), trailing dot removed.
 */
export function hostMatches(pattern: HostPattern, host: string, port: number): boolean {
  if (pattern.port !== undefined && pattern.port !== port) return false;
  if (pattern.kind === 'name') return host === pattern.name;
  if (pattern.kind === 'suffix') return host.endsWith(pattern.suffix) && host.length > pattern.suffix.length;
  if (!ipaddr.isValid(host)) return false;
  const addr = ipaddr.process(host); // an IPv4-mapped IPv6 literal is its IPv4 address
  const [net, bits] = pattern.range;
  return addr.kind() === net.kind() && addr.match(net, bits);
}
