#!/usr/bin/env node
// Live-platform harness (issue 14): real dbt / Spark / Airflow releases, pip-installed into cached virtualenvs
// under .platforms/, started on 127.0.0.1 only, health-checked with a deadline, stopped by pid file.
//
//   npm run platforms -- install|up|down|status|smoke|lock [name ...]   names: dbt spark airflow2 airflow3 (default: all)
//
// Heal itself stays TypeScript; this script only shells out to python3/pip and the platforms' own CLIs.
// No npm dependencies beyond Node 20 built-ins. See docs/live-platforms.md.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROOT = resolve(process.env.HEAL_PLATFORMS_DIR ?? join(REPO, '.platforms'));
const DIRS = {
  venvs: join(ROOT, 'venvs'),
  pipCache: join(ROOT, 'pip-cache'),
  run: join(ROOT, 'run'),
  logs: join(ROOT, 'logs'),
};
const PYTHON = process.env.HEAL_PLATFORMS_PYTHON ?? 'python3';
const HOST = '127.0.0.1'; // loopback only, on purpose: never configurable to 0.0.0.0
const START_TIMEOUT_S = Number(process.env.HEAL_PLATFORMS_START_TIMEOUT_S ?? 180);
const INSTALL_TIMEOUT_S = Number(process.env.HEAL_PLATFORMS_INSTALL_TIMEOUT_S ?? 2400);

const env = (name, dflt) => process.env[name] ?? String(dflt);
const port = (name, dflt) => Number(env(name, dflt));

// ---------------------------------------------------------------------------------------------------------
// small utilities

class HarnessError extends Error {}

function log(msg) {
  process.stdout.write(`[platforms] ${msg}\n`);
}

function ensureDirs(...extra) {
  for (const d of [...Object.values(DIRS), ...extra]) mkdirSync(d, { recursive: true });
}

function tail(file, lines = 40) {
  if (!existsSync(file)) return `(no log at ${file})`;
  let text = readFileSync(file, 'utf8');
  const marker = text.lastIndexOf('\n===== '); // only this start's output, not earlier runs appended above
  if (marker > 0) text = text.slice(marker + 1);
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (opts.check !== false && r.status !== 0) {
    throw new HarnessError(
      `command failed (${r.status ?? r.signal}): ${cmd} ${args.join(' ')}\n${(r.stdout ?? '') + (r.stderr ?? '')}`.trimEnd(),
    );
  }
  return r;
}

/** Runs a command with output appended to logFile, bounded by timeoutS. Resolves with the exit code. */
function runLogged(cmd, args, { logFile, timeoutS, envVars = {}, cwd = REPO }) {
  return new Promise((resolveP, rejectP) => {
    const fd = openSync(logFile, 'a');
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...envVars }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectP(
        new HarnessError(
          `timed out after ${timeoutS}s: ${cmd} ${args.join(' ')}\n--- ${logFile} ---\n${tail(logFile)}`,
        ),
      );
    }, timeoutS * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      rejectP(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveP(code ?? 1);
    });
  });
}

function pidFile(name) {
  return join(DIRS.run, `${name}.pid`);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** True while any process of the group led by pid is left (children such as gunicorn workers, executors). */
function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM' || alive(pid);
  }
}

/** Fails before starting anything when a port is already taken by something that is not ours. */
async function assertPortsFree(what, ports) {
  for (const [envName, p] of Object.entries(ports)) {
    const busy = await new Promise((res) => {
      const sock = connect({ host: HOST, port: p });
      sock.setTimeout(1000);
      sock.once('connect', () => {
        sock.destroy();
        res(true);
      });
      sock.once('error', () => res(false));
      sock.once('timeout', () => {
        sock.destroy();
        res(false);
      });
    });
    if (busy)
      throw new HarnessError(
        `${what}: ${HOST}:${p} is already in use by another process; set ${envName} to a free port`,
      );
  }
}

function readPid(name) {
  const f = pidFile(name);
  if (!existsSync(f)) return null;
  const pid = Number(readFileSync(f, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function runningPid(name) {
  const pid = readPid(name);
  if (pid && alive(pid)) return pid;
  if (existsSync(pidFile(name))) rmSync(pidFile(name)); // stale
  return null;
}

/** Starts a long-running daemon in its own process group; stdout+stderr go to .platforms/logs/<name>.log. */
function startDaemon(name, cmd, args, envVars = {}, cwd = REPO) {
  const existing = runningPid(name);
  if (existing) {
    log(`${name}: already running (pid ${existing})`);
    return existing;
  }
  const logFile = join(DIRS.logs, `${name}.log`);
  const fd = openSync(logFile, 'a');
  writeFileSync(fd, `\n===== ${new Date().toISOString()} start: ${cmd} ${args.join(' ')}\n`);
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...envVars },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  child.unref();
  writeFileSync(pidFile(name), `${child.pid}\n`);
  log(`${name}: started pid ${child.pid} (log ${logFile})`);
  return child.pid;
}

async function stopDaemon(name, graceS = 20) {
  const pid = runningPid(name);
  if (!pid) {
    log(`${name}: not running`);
    return;
  }
  const signal = (sig) => {
    try {
      process.kill(-pid, sig); // the whole process group (detached => pgid == pid)
    } catch {
      try {
        process.kill(pid, sig);
      } catch {}
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceS * 1000;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(250);
  if (groupAlive(pid)) {
    log(`${name}: still alive after ${graceS}s, SIGKILL`);
    signal('SIGKILL');
    await sleep(500);
  }
  rmSync(pidFile(name), { force: true });
  log(`${name}: stopped (pid ${pid})`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls check() until it returns a truthy value or the deadline passes; then fails with the logs' tails. */
async function waitHealthy(what, check, { timeoutS = START_TIMEOUT_S, logNames = [], pids = [] } = {}) {
  const t0 = Date.now();
  let last = '';
  while ((Date.now() - t0) / 1000 < timeoutS) {
    for (const p of pids) {
      const pid = readPid(p);
      if (!pid || !alive(pid)) {
        throw new HarnessError(`${what}: process ${p} exited during start-up\n${logTails([p, ...logNames])}`);
      }
    }
    try {
      const ok = await check();
      if (ok) {
        const s = ((Date.now() - t0) / 1000).toFixed(1);
        log(`${what}: ok after ${s}s`);
        return ok;
      }
    } catch (e) {
      last = String(e?.message ?? e);
    }
    await sleep(1000);
  }
  throw new HarnessError(
    `${what}: not healthy within ${timeoutS}s (HEAL_PLATFORMS_START_TIMEOUT_S)${last ? `; last error: ${last}` : ''}; processes left running for inspection (stop with: npm run platforms -- down <name>)\n${logTails([...pids, ...logNames])}`,
  );
}

function logTails(names) {
  return [...new Set(names)]
    .map((n) => `--- tail of ${join(DIRS.logs, `${n}.log`)} ---\n${tail(join(DIRS.logs, `${n}.log`))}`)
    .join('\n');
}

async function httpGet(url, { headers = {}, timeoutMs = 3000 } = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  return { status: res.status, body, json: () => JSON.parse(body) };
}

// ---------------------------------------------------------------------------------------------------------
// virtualenvs

function venvDir(p) {
  return join(DIRS.venvs, `${p.name}-${p.version}`);
}

function venvBin(p, exe) {
  return join(venvDir(p), 'bin', exe);
}

function installMarker(p) {
  return join(venvDir(p), '.heal-installed.json');
}

function installedInfo(p) {
  try {
    return JSON.parse(readFileSync(installMarker(p), 'utf8'));
  } catch {
    return null;
  }
}

function constraintsFile(p) {
  return join(REPO, 'scripts', 'platforms', 'constraints', `${p.name}-${p.version}.txt`);
}

/** The exact install request: pinned requirements plus the checked-in constraints (pip freeze) when present. */
function installSpec(p) {
  const file = constraintsFile(p);
  if (process.env.HEAL_PLATFORMS_NO_CONSTRAINTS === '1' || !existsSync(file))
    return { args: p.requirements, spec: p.requirements.join(' ') };
  const hash = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
  return {
    args: [...p.requirements, '-c', file],
    spec: `${p.requirements.join(' ')} -c constraints/${p.name}-${p.version}.txt@${hash}`,
  };
}

/** Idempotent: creates the venv and pip-installs the pinned requirements once; a marker records the spec. */
async function ensureVenv(p) {
  const { args, spec } = installSpec(p);
  const info = installedInfo(p);
  if (info && info.spec === spec) return info;
  const dir = venvDir(p);
  const logFile = join(DIRS.logs, `${p.name}-install.log`);
  log(`${p.name}: installing ${spec} into ${dir} (log ${logFile}; first time can take minutes)`);
  const t0 = Date.now();
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true }); // half-built or other spec
  run(PYTHON, ['-m', 'venv', dir]);
  writeFileSync(logFile, `===== ${new Date().toISOString()} pip install ${spec}\n`);
  const pipArgs = [
    'install',
    '--disable-pip-version-check',
    '--cache-dir',
    DIRS.pipCache,
    '--progress-bar',
    'off',
    ...args,
  ];
  const code = await runLogged(venvBin(p, 'pip'), pipArgs, { logFile, timeoutS: INSTALL_TIMEOUT_S });
  if (code !== 0) throw new HarnessError(`${p.name}: pip install failed (exit ${code})\n${tail(logFile)}`);
  const seconds = Math.round((Date.now() - t0) / 100) / 10;
  const marker = { spec, seconds, at: new Date().toISOString() };
  writeFileSync(installMarker(p), `${JSON.stringify(marker, null, 2)}\n`);
  log(`${p.name}: installed in ${seconds}s`);
  return marker;
}

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL helpers (psql CLI, trust auth on loopback in dev/CI)

const PG = {
  host: env('HEAL_LIVE_PGHOST', HOST),
  port: env('HEAL_LIVE_PGPORT', 5432),
  user: env('HEAL_LIVE_PGUSER', 'postgres'),
};

function psql(db, sql, { check = true } = {}) {
  const r = run(
    'psql',
    ['-h', PG.host, '-p', PG.port, '-U', PG.user, '-d', db, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql],
    {
      check,
    },
  );
  return r.stdout.trim();
}

function ensureDatabase(db) {
  if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new HarnessError(`bad database name ${db}`);
  if (psql('postgres', `select 1 from pg_database where datname = '${db}'`) !== '1') {
    psql('postgres', `create database ${db}`);
    log(`postgres: created database ${db}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// dbt: a CLI per case, so "up" = venv installed + database/roles ready + `dbt debug` passes.

const dbt = {
  name: 'dbt',
  version: env('HEAL_LIVE_DBT_VERSION', '1.11.16'),
  postgresAdapter: env('HEAL_LIVE_DBT_POSTGRES_VERSION', '1.11.0'),
  get requirements() {
    return [`dbt-core==${this.version}`, `dbt-postgres==${this.postgresAdapter}`];
  },
  db: env('HEAL_LIVE_DBT_DB', 'heal_live'),
  roRole: env('HEAL_LIVE_DBT_RO_ROLE', 'heal_ro'),
  dir: join(ROOT, 'dbt'),
  get projectDir() {
    return join(this.dir, 'project');
  },
  get profilesDir() {
    return join(this.dir, 'profiles');
  },
  dbtEnv() {
    return { DBT_PROFILES_DIR: this.profilesDir, DBT_SEND_ANONYMOUS_USAGE_STATS: 'false' };
  },
  writeProject() {
    mkdirSync(join(this.projectDir, 'models'), { recursive: true });
    mkdirSync(this.profilesDir, { recursive: true });
    writeFileSync(
      join(this.profilesDir, 'profiles.yml'),
      `heal_live:
  target: dev
  outputs:
    dev:
      type: postgres
      host: ${PG.host}
      port: ${PG.port}
      user: ${PG.user}
      password: ""
      dbname: ${this.db}
      schema: heal
      threads: 2
    readonly:
      type: postgres
      host: ${PG.host}
      port: ${PG.port}
      user: ${this.roRole}
      password: ""
      dbname: ${this.db}
      schema: heal
      threads: 1
`,
    );
    const proj = join(this.projectDir, 'dbt_project.yml');
    if (!existsSync(proj)) {
      writeFileSync(
        proj,
        `name: heal_live
version: "1.0.0"
profile: heal_live
model-paths: ["models"]
target-path: target
`,
      );
      writeFileSync(join(this.projectDir, 'models', 'ok_model.sql'), 'select 1 as id\n');
    }
  },
  async up() {
    ensureDirs(this.dir);
    await ensureVenv(this);
    ensureDatabase(this.db);
    // read-only role for Heal's warehouse probes (HEAL_WAREHOUSE_URL); pg_read_all_data covers future tables
    psql(
      'postgres',
      `do $$ begin if not exists (select 1 from pg_roles where rolname = '${this.roRole}') then create role ${this.roRole} login; end if; end $$`,
    );
    psql(
      this.db,
      `grant connect on database ${this.db} to ${this.roRole}; grant pg_read_all_data to ${this.roRole}`,
    );
    psql(this.db, 'create schema if not exists heal');
    this.writeProject();
    const v = run(venvBin(this, 'dbt'), ['--version'], { env: { ...process.env, ...this.dbtEnv() } });
    log(`dbt --version:\n${v.stdout.trim()}`);
    const logFile = join(DIRS.logs, 'dbt-debug.log');
    writeFileSync(logFile, '');
    const code = await runLogged(venvBin(this, 'dbt'), ['debug', '--project-dir', this.projectDir], {
      logFile,
      timeoutS: 120,
      envVars: this.dbtEnv(),
      cwd: this.projectDir,
    });
    if (code !== 0) throw new HarnessError(`dbt debug failed\n${tail(logFile)}`);
    log('dbt: up (dbt debug: All checks passed)');
  },
  /** dbt run with one good and one broken model: exit 1, target/run_results.json with an error, ok_model readable by the read-only role. */
  async smoke() {
    this.writeProject();
    writeFileSync(
      join(this.projectDir, 'models', 'broken_model.sql'),
      'select id from {{ ref("ok_model") }} join heal.no_such_table using (id)\n',
    );
    const logFile = join(DIRS.logs, 'dbt-smoke.log');
    writeFileSync(logFile, '');
    const t0 = Date.now();
    const code = await runLogged(venvBin(this, 'dbt'), ['run', '--project-dir', this.projectDir], {
      logFile,
      timeoutS: 180,
      envVars: this.dbtEnv(),
      cwd: this.projectDir,
    });
    log(`dbt smoke: dbt run exited ${code} after ${((Date.now() - t0) / 1000).toFixed(1)}s (expected 1)`);
    const rr = JSON.parse(readFileSync(join(this.projectDir, 'target', 'run_results.json'), 'utf8'));
    for (const r of rr.results)
      log(`  ${r.unique_id}: ${r.status}${r.message ? ` — ${r.message.split('\n')[0]}` : ''}`);
    const n = run('psql', [
      '-h',
      PG.host,
      '-p',
      PG.port,
      '-U',
      this.roRole,
      '-d',
      this.db,
      '-Atqc',
      'select count(*) from heal.ok_model',
    ]).stdout.trim();
    log(
      `  read-only role ${this.roRole} reads heal.ok_model: ${n} row(s); artifacts in ${join(this.projectDir, 'target')}`,
    );
    return { code };
  },
  async down() {
    log(
      'dbt: nothing to stop (CLI per case); database left in place — drop with `dropdb -h 127.0.0.1 -U postgres heal_live`',
    );
  },
  async status() {
    const info = installedInfo(this);
    let db = 'missing';
    try {
      db =
        psql('postgres', `select 1 from pg_database where datname = '${this.db}'`, { check: false }) === '1'
          ? 'ready'
          : 'missing';
    } catch {
      db = 'postgres unreachable';
    }
    return {
      installed: info ? `${info.spec} (cold install ${info.seconds}s)` : 'no',
      database: `${this.db} on ${PG.host}:${PG.port}: ${db}`,
      dbt: info ? venvBin(this, 'dbt') : '-',
      env: {
        DBT_PROFILES_DIR: this.profilesDir,
        HEAL_WAREHOUSE_URL: `postgres://${this.roRole}@${PG.host}:${PG.port}/${this.db}`,
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------------------
// Spark standalone: master, two workers, History Server. PySpark ships the full Spark distribution.

const spark = {
  name: 'spark',
  version: env('HEAL_LIVE_PYSPARK_VERSION', '3.5.9'),
  get requirements() {
    return [`pyspark==${this.version}`];
  },
  ports: {
    master: port('HEAL_LIVE_SPARK_MASTER_PORT', 7077),
    masterUi: port('HEAL_LIVE_SPARK_MASTER_UI_PORT', 8080),
    worker1Ui: port('HEAL_LIVE_SPARK_WORKER1_UI_PORT', 8081),
    worker2Ui: port('HEAL_LIVE_SPARK_WORKER2_UI_PORT', 8082),
    history: port('HEAL_LIVE_SPARK_HISTORY_PORT', 18080),
  },
  workerCores: env('HEAL_LIVE_SPARK_WORKER_CORES', 1),
  workerMemory: env('HEAL_LIVE_SPARK_WORKER_MEMORY', '1g'),
  dir: join(ROOT, 'spark'),
  events: join(ROOT, 'spark-events'),
  daemons: ['spark-master', 'spark-worker1', 'spark-worker2', 'spark-history'],
  get masterUrl() {
    return `spark://${HOST}:${this.ports.master}`;
  },
  get historyUrl() {
    return `http://${HOST}:${this.ports.history}`;
  },
  sparkHome() {
    const r = run(venvBin(this, 'python'), [
      '-c',
      'import os, pyspark; print(os.path.dirname(pyspark.__file__))',
    ]);
    return r.stdout.trim();
  },
  writeConf() {
    const conf = join(this.dir, 'conf');
    mkdirSync(conf, { recursive: true });
    const ev = `file://${this.events}`;
    writeFileSync(
      join(conf, 'spark-defaults.conf'),
      [
        '# generated by scripts/platforms/platforms.mjs — edits are overwritten on `up spark`',
        'spark.eventLog.enabled true',
        `spark.eventLog.dir ${ev}`,
        `spark.history.fs.logDirectory ${ev}`,
        `spark.history.ui.port ${this.ports.history}`,
        'spark.history.fs.update.interval 2s',
        `spark.driver.host ${HOST}`,
        `spark.driver.bindAddress ${HOST}`,
        'spark.ui.showConsoleProgress false',
        'spark.executor.memory 512m',
        '# fail instead of silently moving a UI to the next port (the health checks and Heal use fixed ports)',
        'spark.port.maxRetries 0',
        '',
      ].join('\n'),
    );
    // log4j2 to console (the default when no file exists) — the daemons' stdout goes to .platforms/logs
    return conf;
  },
  daemonEnv() {
    const home = this.sparkHome();
    return {
      SPARK_HOME: home,
      SPARK_CONF_DIR: this.writeConf(),
      SPARK_LOCAL_IP: HOST,
      SPARK_LOCAL_HOSTNAME: HOST, // log links and advertised addresses use 127.0.0.1, not the machine name
      SPARK_PUBLIC_DNS: HOST,
      SPARK_DAEMON_MEMORY: env('HEAL_LIVE_SPARK_DAEMON_MEMORY', '512m'),
      PYSPARK_PYTHON: venvBin(this, 'python'),
      PYSPARK_DRIVER_PYTHON: venvBin(this, 'python'),
      PATH: `${join(venvDir(this), 'bin')}:${process.env.PATH}`,
    };
  },
  async masterJson() {
    return (await httpGet(`http://${HOST}:${this.ports.masterUi}/json/`)).json();
  },
  async up() {
    ensureDirs(this.dir, this.events, join(this.dir, 'work'));
    await ensureVenv(this);
    const e = this.daemonEnv();
    const cls = join(e.SPARK_HOME, 'bin', 'spark-class');
    if (!this.daemons.some((d) => runningPid(d))) {
      await assertPortsFree('spark', {
        HEAL_LIVE_SPARK_MASTER_PORT: this.ports.master,
        HEAL_LIVE_SPARK_MASTER_UI_PORT: this.ports.masterUi,
        HEAL_LIVE_SPARK_WORKER1_UI_PORT: this.ports.worker1Ui,
        HEAL_LIVE_SPARK_WORKER2_UI_PORT: this.ports.worker2Ui,
        HEAL_LIVE_SPARK_HISTORY_PORT: this.ports.history,
      });
    }
    const t0 = Date.now();
    startDaemon(
      'spark-master',
      cls,
      [
        'org.apache.spark.deploy.master.Master',
        '--host',
        HOST,
        '--port',
        String(this.ports.master),
        '--webui-port',
        String(this.ports.masterUi),
      ],
      e,
    );
    await waitHealthy('spark-master', async () => (await this.masterJson()).status === 'ALIVE', {
      pids: ['spark-master'],
    });
    for (const [i, ui] of [
      [1, this.ports.worker1Ui],
      [2, this.ports.worker2Ui],
    ]) {
      startDaemon(
        `spark-worker${i}`,
        cls,
        [
          'org.apache.spark.deploy.worker.Worker',
          '--host',
          HOST,
          '--webui-port',
          String(ui),
          '--cores',
          String(this.workerCores),
          '--memory',
          this.workerMemory,
          '--work-dir',
          join(this.dir, 'work', `worker${i}`),
          this.masterUrl,
        ],
        e,
      );
    }
    startDaemon('spark-history', cls, ['org.apache.spark.deploy.history.HistoryServer'], e);
    await waitHealthy(
      'spark workers',
      async () => (await this.masterJson()).workers?.filter((w) => w.state === 'ALIVE').length >= 2,
      { pids: ['spark-master', 'spark-worker1', 'spark-worker2'] },
    );
    await waitHealthy(
      'spark-history',
      async () => (await httpGet(`${this.historyUrl}/api/v1/applications`)).status === 200,
      {
        pids: ['spark-history'],
      },
    );
    log(
      `spark: up in ${((Date.now() - t0) / 1000).toFixed(1)}s — master ${this.masterUrl}, history ${this.historyUrl}`,
    );
  },
  async down() {
    for (const d of [...this.daemons].reverse()) await stopDaemon(d);
  },
  async status() {
    const info = installedInfo(this);
    const procs = Object.fromEntries(
      this.daemons.map((d) => [d, runningPid(d) ? `pid ${runningPid(d)}` : 'stopped']),
    );
    let workers = '-';
    try {
      const j = await this.masterJson();
      workers = j.workers.map((w) => `${w.host}:${w.webuiaddress?.split(':').pop()} ${w.state}`).join(', ');
    } catch {}
    let history = 'down';
    try {
      history = `HTTP ${(await httpGet(`${this.historyUrl}/api/v1/applications`)).status}`;
    } catch {}
    return {
      installed: info ? `${info.spec} (cold install ${info.seconds}s)` : 'no',
      processes: procs,
      master: `${this.masterUrl} (UI http://${HOST}:${this.ports.masterUi})`,
      workers,
      history: `${this.historyUrl} ${history}`,
      env: {
        SPARK_HISTORY_URL: this.historyUrl,
        HEAL_FETCH_ALLOW_HOSTS: [
          this.ports.history,
          this.ports.masterUi,
          this.ports.worker1Ui,
          this.ports.worker2Ui,
        ]
          .map((p) => `${HOST}:${p}`)
          .join(','),
      },
    };
  },
  /** Submits a deliberately failing app (RuntimeError inside a task) and prints what the History Server shows. */
  async smoke() {
    const e = this.daemonEnv();
    const app = join(this.dir, 'smoke_fail.py');
    writeFileSync(
      app,
      `from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("heal-smoke-fail").getOrCreate()

def boom(x):
    if x == 3:
        raise RuntimeError("heal smoke: deliberate failure on record %d" % x)
    return x

try:
    spark.sparkContext.parallelize(range(8), 2).map(boom).collect()
finally:
    spark.stop()
`,
    );
    const before = new Set(
      ((await httpGet(`${this.historyUrl}/api/v1/applications`)).json() ?? []).map((a) => a.id),
    );
    const logFile = join(DIRS.logs, 'spark-smoke.log');
    writeFileSync(logFile, '');
    const t0 = Date.now();
    const code = await runLogged(
      join(e.SPARK_HOME, 'bin', 'spark-submit'),
      ['--master', this.masterUrl, '--conf', 'spark.task.maxFailures=2', '--total-executor-cores', '2', app],
      { logFile, timeoutS: 300, envVars: e },
    );
    log(
      `spark smoke: spark-submit exited ${code} after ${((Date.now() - t0) / 1000).toFixed(1)}s (expected non-zero)`,
    );
    const found = await waitHealthy(
      'history shows smoke app',
      async () => {
        const apps = (await httpGet(`${this.historyUrl}/api/v1/applications`)).json();
        return apps.find(
          (a) => !before.has(a.id) && a.name === 'heal-smoke-fail' && a.attempts?.[0]?.completed,
        );
      },
      { timeoutS: 60 },
    );
    const execs = (await httpGet(`${this.historyUrl}/api/v1/applications/${found.id}/allexecutors`)).json();
    const jobs = (await httpGet(`${this.historyUrl}/api/v1/applications/${found.id}/jobs`)).json();
    log(`app ${found.id}: jobs ${jobs.map((j) => `${j.jobId}:${j.status}`).join(', ')}`);
    for (const x of execs) {
      log(
        `  executor ${x.id} ${x.hostPort} failedTasks=${x.failedTasks} logs=${JSON.stringify(x.executorLogs)}`,
      );
    }
    return { code, app: found.id };
  },
};

// ---------------------------------------------------------------------------------------------------------
// Airflow 2 / 3 (AIRFLOW_MARKER)

function makeAirflow({ name, version, apiPort, logServerPort }) {
  const major = Number(version.split('.')[0]);
  const dir = join(ROOT, name);
  const home = join(dir, 'home');
  const dags = join(dir, 'dags');
  const db = `heal_${name}`;
  const user = env(`HEAL_LIVE_${name.toUpperCase()}_USER`, 'heal');
  const password = env(`HEAL_LIVE_${name.toUpperCase()}_PASSWORD`, 'heal');
  const baseUrl = `http://${HOST}:${apiPort}`;
  const daemons =
    major >= 3
      ? [`${name}-api-server`, `${name}-scheduler`, `${name}-dag-processor`]
      : [`${name}-webserver`, `${name}-scheduler`];
  const api = major >= 3 ? '/api/v2' : '/api/v1';

  function secret(file) {
    const f = join(dir, file);
    if (!existsSync(f)) writeFileSync(f, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
    return readFileSync(f, 'utf8').trim();
  }

  function afEnv() {
    const e = {
      AIRFLOW_HOME: home,
      AIRFLOW__CORE__DAGS_FOLDER: dags,
      AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
      AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
      AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: 'False',
      AIRFLOW__CORE__PARALLELISM: '4',
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `postgresql+psycopg2://${PG.user}@${PG.host}:${PG.port}/${db}`,
      AIRFLOW__LOGGING__BASE_LOG_FOLDER: join(home, 'logs'),
      AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT: String(logServerPort),
      AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL: '5',
      AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL: '5',
      PATH: `${join(venvDir(p), 'bin')}:${process.env.PATH}`,
      NO_PROXY: '127.0.0.1,localhost',
    };
    if (major >= 3) {
      Object.assign(e, {
        AIRFLOW__CORE__AUTH_MANAGER:
          'airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager',
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS: `${user}:admin`,
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE: join(dir, 'simple_auth_manager_passwords.json'),
        AIRFLOW__API_AUTH__JWT_SECRET: secret('jwt-secret'),
        AIRFLOW__API__SECRET_KEY: secret('api-secret'),
        AIRFLOW__API__BASE_URL: baseUrl,
        AIRFLOW__API__HOST: HOST,
        AIRFLOW__API__PORT: String(apiPort),
        AIRFLOW__API__WORKERS: '1',
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL: `${baseUrl}/execution/`,
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL: '5',
      });
    } else {
      Object.assign(e, {
        AIRFLOW__API__AUTH_BACKENDS: 'airflow.api.auth.backend.basic_auth,airflow.api.auth.backend.session',
        AIRFLOW__WEBSERVER__SECRET_KEY: secret('webserver-secret'),
        AIRFLOW__WEBSERVER__WEB_SERVER_HOST: HOST,
        AIRFLOW__WEBSERVER__WEB_SERVER_PORT: String(apiPort),
        AIRFLOW__WEBSERVER__BASE_URL: baseUrl,
        AIRFLOW__WEBSERVER__WORKERS: '2',
        AIRFLOW__WEBSERVER__WORKER_REFRESH_INTERVAL: '0',
        AIRFLOW__CORE__FERNET_KEY: '',
      });
    }
    return e;
  }

  function writeDags() {
    mkdirSync(dags, { recursive: true });
    const f = join(dags, 'heal_smoke_fail.py');
    const imports =
      major >= 3
        ? 'from airflow.sdk import DAG, task'
        : 'from airflow import DAG\nfrom airflow.decorators import task';
    writeFileSync(
      f,
      `# generated by scripts/platforms/platforms.mjs
import datetime

${imports}

with DAG(dag_id="heal_smoke_fail", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False, tags=["heal"]):

    @task(retries=0)
    def extract():
        return 42

    @task(retries=0)
    def load(n):
        raise RuntimeError(f"heal smoke: deliberate failure loading {n} rows")

    load(extract())
`,
    );
  }

  async function authHeaders() {
    if (major >= 3) {
      const res = await fetch(`${baseUrl}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: user, password }),
        signal: AbortSignal.timeout(5000),
      });
      if (res.status !== 200 && res.status !== 201)
        throw new Error(`/auth/token HTTP ${res.status}: ${await res.text()}`);
      return { authorization: `Bearer ${(await res.json()).access_token}` };
    }
    return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
  }

  async function health() {
    const r = await httpGet(`${baseUrl}${major >= 3 ? '/api/v2/monitor/health' : '/health'}`);
    if (r.status !== 200) return false;
    const j = r.json();
    return j.metadatabase?.status === 'healthy' && j.scheduler?.status === 'healthy' ? j : false;
  }

  const p = {
    name,
    version,
    major,
    apiPort,
    get requirements() {
      // No constraints file: the official ones live on raw.githubusercontent.com, unreachable here.
      const extra = (
        process.env[`HEAL_LIVE_${name.toUpperCase()}_EXTRA_PINS`] ??
        DEFAULT_AIRFLOW_PINS[name] ??
        ''
      )
        .split(' ')
        .filter(Boolean);
      return [`apache-airflow[postgres]==${version}`, ...extra];
    },
    async up() {
      ensureDirs(dir, home, dags);
      await ensureVenv(p);
      if (daemons.every((d) => runningPid(d)) && (await health().catch(() => false))) {
        log(
          `${name}: already up (${daemons.map((d) => `${d} pid ${runningPid(d)}`).join(', ')}) — ${baseUrl}`,
        );
        return;
      }
      if (!daemons.some((d) => runningPid(d))) {
        await assertPortsFree(name, { [`HEAL_LIVE_${name.toUpperCase()}_PORT`]: apiPort });
      }
      ensureDatabase(db);
      writeDags();
      const e = afEnv();
      if (major >= 3)
        writeFileSync(
          e.AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE,
          `${JSON.stringify({ [user]: password })}\n`,
        );
      const t0 = Date.now();
      const af = venvBin(p, 'airflow');
      const migrateLog = join(DIRS.logs, `${name}-db-migrate.log`);
      writeFileSync(migrateLog, '');
      const code = await runLogged(af, ['db', 'migrate'], { logFile: migrateLog, timeoutS: 600, envVars: e });
      if (code !== 0) throw new HarnessError(`${name}: airflow db migrate failed\n${tail(migrateLog)}`);
      log(`${name}: db migrate done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      if (major < 3) {
        const r = run(
          af,
          [
            'users',
            'create',
            '--username',
            user,
            '--password',
            password,
            '--role',
            'Admin',
            '--email',
            `${user}@example.invalid`,
            '--firstname',
            'Heal',
            '--lastname',
            'Live',
          ],
          { env: { ...process.env, ...e }, check: false },
        );
        if (r.status !== 0 && !/already exist/i.test(r.stdout + r.stderr))
          throw new HarnessError(`${name}: users create failed\n${r.stdout}${r.stderr}`);
        startDaemon(
          `${name}-webserver`,
          af,
          ['webserver', '--hostname', HOST, '--port', String(apiPort)],
          e,
          home,
        );
        // --skip-serve-logs: the worker log server binds 0.0.0.0 in 2.x; with LocalExecutor the webserver
        // reads task logs straight from AIRFLOW__LOGGING__BASE_LOG_FOLDER, so it is not needed.
        startDaemon(`${name}-scheduler`, af, ['scheduler', '--skip-serve-logs'], e, home);
      } else {
        startDaemon(
          `${name}-api-server`,
          af,
          ['api-server', '--host', HOST, '--port', String(apiPort)],
          e,
          home,
        );
        startDaemon(`${name}-scheduler`, af, ['scheduler'], e, home);
        startDaemon(`${name}-dag-processor`, af, ['dag-processor'], e, home);
      }
      await waitHealthy(`${name} health`, health, { pids: daemons });
      await waitHealthy(
        `${name} authenticated ${api}/dags lists heal_smoke_fail`,
        async () => {
          const r = await httpGet(`${baseUrl}${api}/dags`, { headers: await authHeaders() });
          if (r.status !== 200) throw new Error(`HTTP ${r.status} ${r.body.slice(0, 200)}`);
          return r.json().dags?.some((d) => d.dag_id === 'heal_smoke_fail');
        },
        { pids: daemons },
      );
      log(`${name}: up in ${((Date.now() - t0) / 1000).toFixed(1)}s — ${baseUrl} (user ${user})`);
    },
    async down() {
      for (const d of [...daemons].reverse()) await stopDaemon(d, 30);
    },
    async status() {
      const info = installedInfo(p);
      let h = 'down';
      try {
        const j = await health();
        h = j ? 'healthy' : 'unhealthy';
      } catch {}
      return {
        installed: info ? `${info.spec} (cold install ${info.seconds}s)` : 'no',
        processes: Object.fromEntries(
          daemons.map((d) => [d, runningPid(d) ? `pid ${runningPid(d)}` : 'stopped']),
        ),
        api: `${baseUrl}${api} ${h}`,
        dags: dags,
        env: {
          AIRFLOW_BASE_URL: baseUrl,
          AIRFLOW_USERNAME: user,
          AIRFLOW_PASSWORD: password,
          HEAL_FETCH_ALLOW_HOSTS: `${HOST}:${apiPort}`,
        },
      };
    },
    /** Triggers heal_smoke_fail through the REST API and waits for the run to fail. */
    async smoke() {
      const headers = { ...(await authHeaders()), 'content-type': 'application/json' };
      const body = major >= 3 ? { logical_date: null } : {};
      const res = await fetch(`${baseUrl}${api}/dags/heal_smoke_fail/dagRuns`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      const run0 = await res.json();
      if (res.status >= 300)
        throw new HarnessError(`${name}: trigger failed HTTP ${res.status} ${JSON.stringify(run0)}`);
      const runId = run0.dag_run_id;
      log(`${name}: triggered ${runId}`);
      const final = await waitHealthy(
        `${name} run ${runId} finished`,
        async () => {
          const r = await httpGet(
            `${baseUrl}${api}/dags/heal_smoke_fail/dagRuns/${encodeURIComponent(runId)}`,
            { headers: await authHeaders() },
          );
          const j = r.json();
          return ['failed', 'success'].includes(j.state) ? j : false;
        },
        { timeoutS: 240, pids: daemons },
      );
      const ti = (
        await httpGet(
          `${baseUrl}${api}/dags/heal_smoke_fail/dagRuns/${encodeURIComponent(runId)}/taskInstances`,
          { headers: await authHeaders() },
        )
      ).json();
      log(
        `${name}: run state ${final.state}; tasks ${ti.task_instances.map((t) => `${t.task_id}=${t.state}(try ${t.try_number})`).join(', ')}`,
      );
      const failed = ti.task_instances.find((t) => t.state === 'failed');
      if (failed) {
        const url = `${baseUrl}${api}/dags/heal_smoke_fail/dagRuns/${encodeURIComponent(runId)}/taskInstances/${failed.task_id}/logs/${failed.try_number}`;
        const lr = await httpGet(url, {
          headers: { ...(await authHeaders()), accept: major >= 3 ? 'application/json' : 'text/plain' },
        });
        log(
          `${name}: GET ${url} -> HTTP ${lr.status}, ${lr.body.length} bytes, mentions RuntimeError: ${lr.body.includes('RuntimeError')}`,
        );
      }
      return final;
    },
  };
  return p;
}

// Extra pins applied when installing without the official constraints file (see docs/live-platforms.md).
const DEFAULT_AIRFLOW_PINS = {};

// ---------------------------------------------------------------------------------------------------------

const airflow2 = makeAirflow({
  name: 'airflow2',
  version: env('HEAL_LIVE_AIRFLOW2_VERSION', '2.10.5'),
  apiPort: port('HEAL_LIVE_AIRFLOW2_PORT', 28080),
  logServerPort: port('HEAL_LIVE_AIRFLOW2_LOG_SERVER_PORT', 28793),
});
const airflow3 = makeAirflow({
  name: 'airflow3',
  version: env('HEAL_LIVE_AIRFLOW3_VERSION', '3.3.2'),
  apiPort: port('HEAL_LIVE_AIRFLOW3_PORT', 28090),
  logServerPort: port('HEAL_LIVE_AIRFLOW3_LOG_SERVER_PORT', 28794),
});

const PLATFORMS = { dbt, spark, airflow2, airflow3 };
const COMMANDS = ['install', 'up', 'down', 'status', 'smoke', 'lock'];

async function main(argv) {
  const [cmd, ...names] = argv;
  if (!COMMANDS.includes(cmd)) {
    process.stderr.write(
      `usage: npm run platforms -- ${COMMANDS.join('|')} [${Object.keys(PLATFORMS).join('|')} ...]\n  (see docs/live-platforms.md)\n`,
    );
    return 2;
  }
  const unknown = names.filter((n) => !PLATFORMS[n]);
  if (unknown.length)
    throw new HarnessError(
      `unknown platform(s): ${unknown.join(', ')}; known: ${Object.keys(PLATFORMS).join(', ')}`,
    );
  const targets = (names.length ? names : Object.keys(PLATFORMS)).map((n) => PLATFORMS[n]);
  ensureDirs();
  for (const p of targets) {
    if (cmd === 'status') {
      process.stdout.write(`${p.name} ${p.version}\n`);
      for (const [k, v] of Object.entries(await p.status())) {
        process.stdout.write(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
      }
    } else if (cmd === 'install') {
      await ensureVenv(p);
    } else if (cmd === 'lock') {
      await ensureVenv(p);
      const frozen = run(venvBin(p, 'pip'), ['freeze', '--disable-pip-version-check']).stdout;
      const header = `# pip constraints for the live-platform venv ${p.name}-${p.version}: pip freeze of a venv that passed \`npm run platforms -- up/smoke\`\n# on ${new Date().toISOString().slice(0, 10)}. Regenerate with: npm run platforms -- lock ${p.name}\n`;
      writeFileSync(constraintsFile(p), header + frozen);
      // the venv is exactly what the new file describes: record that, so the next `up` does not rebuild it
      const marker = { ...installedInfo(p), spec: installSpec(p).spec, lockedAt: new Date().toISOString() };
      writeFileSync(installMarker(p), `${JSON.stringify(marker, null, 2)}\n`);
      log(`${p.name}: wrote ${constraintsFile(p)}`);
    } else if (cmd === 'smoke') {
      if (!p.smoke) log(`${p.name}: no smoke test`);
      else await p.smoke();
    } else {
      await p[cmd]();
    }
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`[platforms] ERROR: ${e instanceof HarnessError ? e.message : (e?.stack ?? e)}\n`);
    process.exit(1);
  },
);
