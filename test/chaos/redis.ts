/**
 * Redis servers the chaos tests start themselves: a standalone `redis-server` with AOF on, in a temp dir,
 * on a free loopback port, that can be stopped and started again on the same port and data (or, with
 * `persist: false`, without any persistence: a restart loses every key); and a 3-master Redis Cluster
 * (`--cluster-enabled yes` + `redis-cli --cluster create`).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from '../e2e/procs.ts';

const run = promisify(execFile);

export interface RedisServer {
  port: number;
  dir: string;
  /** Whether the process is running now. */
  up(): boolean;
  start(): Promise<void>;
  /** SIGTERM (Redis flushes the AOF and exits), then waits for the exit. */
  stop(): Promise<void>;
  restart(downMs?: number): Promise<void>;
  cli(...args: string[]): Promise<string>;
  /** Stops and removes the data dir. */
  destroy(): Promise<void>;
}

/**
 * A redis-server on 127.0.0.1:`port` with AOF, its data in `dir` (kept across restarts). `persist: false`:
 * no AOF and no RDB snapshots, so a restart comes back empty (Redis losing its data mid-flight).
 */
export async function startRedisServer(
  opts: { cluster?: boolean; port?: number; persist?: boolean } = {},
): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'heal-chaos-redis-'));
  let child: ChildProcess | undefined;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    opts.persist === false ? 'no' : 'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
    ...(opts.cluster
      ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1500']
      : []),
  ];
  const server: RedisServer = {
    port,
    dir,
    up: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async start() {
      child = spawn('redis-server', args, { stdio: 'ignore' });
      await waitFor(`redis-server on ${port}`, async () =>
        (await server.cli('PING').catch(() => '')).includes('PONG'),
      );
    },
    async stop() {
      const c = child;
      if (!c || !server.up()) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    },
    async restart(downMs = 0) {
      await server.stop();
      if (downMs) await new Promise((r) => setTimeout(r, downMs));
      await server.start();
    },
    async cli(...cmd) {
      const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...cmd]);
      return stdout;
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

export interface RedisCluster {
  nodes: RedisServer[];
  /** `host:port,…` for REDIS_CLUSTER_NODES. */
  seeds: string;
  /** The node serving `key`'s slot. */
  masterOf(key: string): Promise<RedisServer>;
  waitOk(): Promise<void>;
  destroy(): Promise<void>;
}

/** Three masters, no replicas, slots split evenly by `redis-cli --cluster create`. */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  for (let i = 0; i < size; i++) nodes.push(await startRedisServer({ cluster: true }));
  const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
  await run('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes']);
  const cluster: RedisCluster = {
    nodes,
    seeds: addrs.join(','),
    async waitOk() {
      await waitFor(
        'cluster_state:ok on every node',
        async () => {
          const infos = await Promise.all(nodes.map((n) => n.cli('CLUSTER', 'INFO').catch(() => '')));
          return infos.every((i) => i.includes('cluster_state:ok'));
        },
        30_000,
      );
    },
    async masterOf(key) {
      const slot = Number((await nodes[0]?.cli('CLUSTER', 'KEYSLOT', key))?.trim());
      for (const n of nodes) {
        const mine = (await n.cli('CLUSTER', 'COUNTKEYSINSLOT', String(slot)).catch(() => '')) !== '';
        const owner = await n.cli('CLUSTER', 'NODES');
        const self = owner.split('\n').find((l) => l.includes('myself'));
        if (mine && self && ownsSlot(self, slot)) return n;
      }
      throw new Error(`no master owns slot ${slot}`);
    },
    async destroy() {
      await Promise.all(nodes.map((n) => n.destroy()));
    },
  };
  await cluster.waitOk();
  return cluster;
}

/** Whether a CLUSTER NODES line lists `slot` among its ranges (`0-5460 5461 …`). */
function ownsSlot(line: string, slot: number): boolean {
  return line
    .split(' ')
    .slice(8)
    .some((r) => {
      const [a, b] = r.split('-').map(Number);
      return a !== undefined && slot >= a && slot <= (b ?? a);
    });
}
