import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { checkEgress, egressPolicy, forbiddenAddress, lookupGuard } from '../../src/adapters/egress.ts';
import { ConfigError, loadConfig } from '../../src/core/config.ts';
import { parseHostPattern } from '../../src/core/host-pattern.ts';

const policyFor = (env: Record<string, string>) => egressPolicy(loadConfig(env));

const POLICY = policyFor({
  SPARK_HISTORY_URL: 'http://history.internal:18080',
  AIRFLOW_BASE_URL: 'https://airflow.example.com/',
  HEAL_FETCH_ALLOW_HOSTS: '*.nodemanager.internal, worker-7.internal:8081, 10.1.0.0/16:8042, [fd12::/16]',
});

const verdict = (url: string, policy = POLICY) => {
  const v = checkEgress(url, policy);
  return v.ok ? 'ok' : v.refusal;
};

describe('checkEgress: the allow-list', () => {
  it('allows the configured platform hosts, on their own port only', () => {
    expect(verdict('http://history.internal:18080/api/v1/applications')).toBe('ok');
    expect(verdict('https://airflow.example.com/api/v2/version')).toBe('ok');
    expect(verdict('https://airflow.example.com:443/x')).toBe('ok');
    expect(verdict('http://history.internal:6379/')).toBe('not_allowed');
    expect(verdict('http://airflow.example.com/')).toBe('not_allowed'); // port 80, configured is 443
  });

  it('matches *.suffix wildcards on whole labels, at any depth, but not the bare suffix', () => {
    expect(verdict('http://ip-10-0-1-5.nodemanager.internal:8042/node/containerlogs/c/etl/stderr')).toBe(
      'ok',
    );
    expect(verdict('http://a.b.NodeManager.Internal./x')).toBe('ok');
    expect(verdict('http://nodemanager.internal/')).toBe('not_allowed');
    expect(verdict('http://evilnodemanager.internal/')).toBe('not_allowed');
    expect(verdict('http://x.nodemanager.internal.evil.com/')).toBe('not_allowed');
  });

  it('honours a pattern port, and CIDR patterns for IP literals', () => {
    expect(verdict('http://worker-7.internal:8081/logPage/?appId=a')).toBe('ok');
    expect(verdict('http://worker-7.internal:8082/')).toBe('not_allowed');
    expect(verdict('http://10.1.2.3:8042/node')).toBe('ok');
    expect(verdict('http://10.1.2.3:22/')).toBe('not_allowed');
    expect(verdict('http://10.2.0.1:8042/')).toBe('not_allowed');
    expect(verdict('http://[fd12::5]:9000/')).toBe('ok');
    expect(verdict('http://[fd13::5]:9000/')).toBe('not_allowed');
  });

  it('allows loopback only when it is the configured host or listed', () => {
    const local = policyFor({ SPARK_HISTORY_URL: 'http://127.0.0.1:18080' });
    expect(verdict('http://127.0.0.1:18080/api/v1/applications', local)).toBe('ok');
    expect(verdict('http://127.0.0.1:6379/', local)).toBe('not_allowed');
    expect(verdict('http://127.0.0.2:18080/', local)).toBe('not_allowed');
    expect(verdict('http://localhost:18080/', local)).toBe('not_allowed');
    expect(verdict('http://127.0.0.1:9/')).toBe('not_allowed');
    expect(verdict('http://127.0.0.1:9/', policyFor({ HEAL_FETCH_ALLOW_HOSTS: '127.0.0.0/8' }))).toBe('ok');
  });

  it('says what to do when a host is not listed', () => {
    const v = checkEgress('http://nm-3.yarn.corp:8042/node/containerlogs/c/etl/stdout?start=0', POLICY);
    expect(v).toMatchObject({ ok: false, refusal: 'not_allowed' });
    if (!v.ok) {
      expect(v.reason).toContain('nm-3.yarn.corp:8042');
      expect(v.reason).toContain('HEAL_FETCH_ALLOW_HOSTS');
    }
  });

  it('refuses anything but http(s) and URLs that carry credentials', () => {
    expect(verdict('file:///etc/passwd')).toBe('invalid');
    expect(verdict('gopher://history.internal:18080/')).toBe('invalid');
    expect(verdict('not a url')).toBe('invalid');
    expect(verdict('http://169.254.169.254@history.internal:18080/')).toBe('invalid');
    const v = checkEgress('http://etl:hunter2@history.internal:18080/', POLICY);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).not.toContain('hunter2');
  });
});

describe('checkEgress: addresses that are never fetched, even when listed', () => {
  const listed = policyFor({
    HEAL_FETCH_ALLOW_HOSTS:
      '169.254.0.0/16,[fe80::/10],[fd00::/8],100.64.0.0/10,0.0.0.0/0,[::/0],metadata.google.internal,*.internal',
  });
  const forbidden = (url: string) => {
    const v = checkEgress(url, listed);
    expect(v, url).toMatchObject({ ok: false, refusal: 'forbidden' });
    return v.ok ? '' : v.reason;
  };

  it('link-local and cloud metadata, v4 and v6', () => {
    expect(forbidden('http://169.254.169.254/latest/meta-data/iam/')).toMatch(/link-local.*metadata/);
    expect(forbidden('http://169.254.10.20:8042/')).toMatch(/link-local/);
    expect(forbidden('http://[fe80::1]/')).toMatch(/link-local/);
    expect(forbidden('http://[fd00:ec2::254]/latest/meta-data/')).toMatch(/metadata/);
    expect(forbidden('http://100.100.100.200/latest/meta-data/')).toMatch(/metadata/);
    expect(forbidden('http://metadata.google.internal/computeMetadata/v1/')).toMatch(/metadata/);
    expect(forbidden('http://METADATA.google.internal./computeMetadata/v1/')).toMatch(/metadata/);
  });

  it('IPv4-mapped, NAT64 and IPv4-compatible IPv6 forms of a forbidden address', () => {
    forbidden('http://[::ffff:169.254.169.254]/');
    forbidden('http://[::ffff:a9fe:a9fe]/');
    forbidden('http://[64:ff9b::169.254.169.254]/');
    forbidden('http://[::169.254.169.254]/');
    forbidden('http://[2002:a9fe:a9fe::1]/');
  });

  it('decimal, hex, octal and short IPv4 forms, as the WHATWG URL parser normalises them', () => {
    for (const url of [
      'http://2852039166/',
      'http://0xa9fea9fe/',
      'http://0xA9.0xFE.0xA9.0xFE/',
      'http://0251.0376.0251.0376/',
      'http://169.254.43518/',
    ])
      expect(forbidden(url), url).toMatch(/169\.254\.169\.254/);
  });

  it('unspecified, multicast and broadcast', () => {
    expect(forbidden('http://0.0.0.0:8042/')).toMatch(/unspecified/);
    expect(forbidden('http://0/')).toMatch(/unspecified/);
    expect(forbidden('http://[::]/')).toMatch(/unspecified/);
    expect(forbidden('http://224.0.0.1/')).toMatch(/multicast/);
    expect(forbidden('http://[ff02::1]/')).toMatch(/multicast/);
    expect(forbidden('http://255.255.255.255/')).toMatch(/broadcast/);
  });

  it('userinfo never changes which host is checked', () => {
    expect(forbidden('http://history.internal:18080@169.254.169.254/')).toMatch(/169\.254\.169\.254/);
    expect(forbidden('http://allowed@169.254.169.254/')).toMatch(/169\.254\.169\.254/);
    expect(verdict('http://allowed@169.254.169.254/')).toBe('forbidden');
  });

  it('forbiddenAddress classifies resolved addresses', () => {
    expect(forbiddenAddress('169.254.169.254')).toMatch(/metadata/);
    expect(forbiddenAddress('::ffff:169.254.169.254')).toMatch(/link-local/);
    expect(forbiddenAddress('fe80::abcd')).toMatch(/link-local/);
    expect(forbiddenAddress('10.0.0.5')).toBeUndefined();
    expect(forbiddenAddress('127.0.0.1')).toBeUndefined();
    expect(forbiddenAddress('::1')).toBeUndefined();
  });
});

describe('lookupGuard: the address actually connected to is checked', () => {
  const fakeDns =
    (answers: Record<string, LookupAddress[]>) =>
    (
      host: string,
      _opts: unknown,
      cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
    ) => {
      const a = answers[host];
      if (a) cb(null, a);
      else cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);
    };
  const guard = lookupGuard(
    fakeDns({
      'nm-1.nodemanager.internal': [{ address: '10.0.0.5', family: 4 }],
      'nm-2.nodemanager.internal': [
        { address: '10.0.0.6', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ],
      'nm-3.nodemanager.internal': [{ address: '::ffff:169.254.169.254', family: 6 }],
    }),
  );
  const run = (host: string, all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((ok) =>
      guard(host, { all }, (err, address, family) => ok({ err, address, family })),
    );

  it('passes a name that resolves to allowed addresses (all and single-address modes)', async () => {
    expect(await run('nm-1.nodemanager.internal', true)).toMatchObject({
      err: null,
      address: [{ address: '10.0.0.5', family: 4 }],
    });
    expect(await run('nm-1.nodemanager.internal', false)).toMatchObject({
      err: null,
      address: '10.0.0.5',
      family: 4,
    });
  });

  it('refuses a name when any of its addresses is forbidden', async () => {
    for (const host of ['nm-2.nodemanager.internal', 'nm-3.nodemanager.internal']) {
      const r = await run(host, true);
      expect(r.err?.code).toBe('HEAL_EGRESS_REFUSED');
      expect(r.err?.message).toContain(host);
      expect(r.err?.message).toMatch(/169\.254\.169\.254/);
    }
  });

  it('passes DNS errors through', async () => {
    expect((await run('nope.nodemanager.internal', true)).err?.code).toBe('ENOTFOUND');
  });
});

describe('HEAL_FETCH_ALLOW_HOSTS grammar', () => {
  it('parses exact hosts, wildcards, IPs, CIDR ranges and ports', () => {
    for (const p of [
      'nm-1.corp',
      'nm-1.corp:8042',
      '*.nodemanager.internal',
      '*.nodemanager.internal:8042',
      '10.0.0.7',
      '10.0.0.0/8',
      '10.0.0.0/8:8042',
      '[fd12::1]',
      '[fd12::/16]:8042',
      'localhost',
    ])
      expect(parseHostPattern(p).ok, p).toBe(true);
  });

  it('rejects patterns that do not mean one clear thing', () => {
    for (const p of [
      '*',
      '*.',
      'a.*.corp',
      'nm-*.corp',
      'nm-1.corp:0',
      'nm-1.corp:70000',
      'http://nm-1.corp',
      'nm-1.corp/logs',
      '10.0.0',
      '10.0.0.0/33',
      'fd12::1',
      'a..b',
    ])
      expect(parseHostPattern(p).ok, p).toBe(false);
  });

  it('a bad pattern is a configuration error naming the variable and the pattern', () => {
    expect(() => loadConfig({ HEAL_FETCH_ALLOW_HOSTS: '*.nodemanager.internal,*' })).toThrow(ConfigError);
    try {
      loadConfig({ HEAL_FETCH_ALLOW_HOSTS: 'nm-*.corp' });
    } catch (err) {
      expect((err as ConfigError).message).toMatch(/HEAL_FETCH_ALLOW_HOSTS.*nm-\*\.corp/);
    }
  });
});
