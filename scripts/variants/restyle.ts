/**
 * Moves a scenario to another cluster manager's conventions: app id style, executor log URLs (and their
 * routes), executor exit texts, host names and master/deploy-mode properties. Client mode everywhere
 * (no driver log), since only YARN/Kubernetes cluster mode would have one.
 */

import { mapStrings } from './edit.ts';
import { editJson, getJson, type Json, replaceEverywhere, type Scn } from './io.ts';
import { dropRoutes, setProps } from './ops.ts';

export type Style = 'yarn' | 'standalone' | 'k8s';

export interface RestyleOptions {
  style: Style;
  appId: string;
  /** k8s pod name prefix, e.g. `basket-attribution-7f3a`. */
  pod?: string;
  /** YARN container id prefix, e.g. `container_e05_1771234567890_0457_01_`. */
  container?: string;
}

const K8S_LABEL: Record<string, string> = {
  '52': 'JVM OOM',
  '137': 'SIGKILL, possible container OOM',
  '143': 'unexpected',
};

function newLogUrl(o: RestyleOptions, exec: string, type: string): string {
  if (o.style === 'standalone')
    return `{base}/logs/logPage/?appId=${o.appId}&executorId=${exec}&logType=${type}`;
  if (o.style === 'k8s') return `{base}/logs/k8s/spark-jobs/${o.pod}-exec-${exec}/${type}`;
  return `{base}/logs/node/containerlogs/${containerOf(o, exec)}/etl/${type}`;
}

const containerOf = (o: RestyleOptions, exec: string) =>
  `${o.container}${String(+exec + 1).padStart(6, '0')}`;

function routeUrl(path: string, query?: Record<string, string>): string {
  return `{base}${path}${query ? `?${new URLSearchParams(query).toString()}` : ''}`;
}

/** Rewrites executor exit texts: `exitText(execId, code)` in the target style. */
function exitText(o: RestyleOptions, exec: string, code: string, host: string): string {
  if (o.style === 'standalone') return `Command exited with code ${code}`;
  if (o.style === 'k8s')
    return `The executor with id ${exec} exited with exit code ${code}(${K8S_LABEL[code] ?? 'unexpected'}).`;
  const cid = containerOf(o, exec);
  return `Container from a bad node: ${cid} on host: ${host}. Exit status: ${code}. Diagnostics: Exception from container-launch.\nContainer id: ${cid}\nExit code: ${code}\n.`;
}

export function restyle(s: Scn, o: RestyleOptions): void {
  const oldId = s.manifest.target.split(/\s+/)[1]?.split('/')[0] ?? '';
  const execs: Json[] = getJson(s, 'http/allexecutors.json');
  const hostOf = new Map<string, string>(execs.map((e) => [e.id, String(e.hostPort).split(':')[0] ?? '']));
  const pairs: Array<[string, string]> = [];
  for (const e of execs) {
    for (const [type, url] of Object.entries<string>(e.executorLogs ?? {})) {
      if (e.id !== 'driver') pairs.push([url, newLogUrl(o, e.id, type)]);
    }
  }
  const byOld = new Map(pairs);
  dropRoutes(s, /driver/);
  for (const r of s.manifest.routes) {
    const to = byOld.get(routeUrl(r.path, r.query));
    if (!to) continue;
    const u = new URL(to.replace('{base}', 'http://x'));
    r.path = decodeURIComponent(u.pathname);
    r.query = u.search ? Object.fromEntries(u.searchParams) : undefined;
    if (!r.query) delete r.query;
  }
  s.manifest.routes = s.manifest.routes.filter(
    (r) => !(r.path.startsWith('/logs') && r.file.includes('driver')),
  );
  replaceEverywhere(s, pairs);
  rewriteExitTexts(s, o, hostOf);
  for (const f of ['http/allexecutors.json', 'http/executors.json']) {
    editJson(s, f, (l: Json[]) => {
      for (const e of l) {
        if (e.id === 'driver') e.executorLogs = {};
        e.attributes =
          o.style === 'yarn' && e.id !== 'driver' ? yarnAttributes(o, e.id, hostOf.get(e.id) ?? '') : {};
      }
    });
  }
  replaceEverywhere(s, [[oldId, o.appId]]);
  if (o.style === 'yarn') yarnHosts(s);
  setMaster(s, o.style);
}

function rewriteExitTexts(s: Scn, o: RestyleOptions, hostOf: Map<string, string>): void {
  const ctx =
    /(executor (?:with id )?(\d+)\b[^\n]*?)(?:Command exited with code (\d+)|The executor with id \d+ exited with exit code (\d+)\([^)]*\)\.)/g;
  const fix = (t: string) =>
    t.replace(ctx, (_, pre: string, id: string, c1?: string, c2?: string) => {
      const lead = pre.replace(/The executor with id \d+ $/, '');
      return `${lead}${exitText(o, id, c1 ?? c2 ?? '', hostOf.get(id) ?? '')}`;
    });
  const k8sTail = /\n+The API gave the following container statuses:\n+(?:\t[^\n]*\n?)*/g;
  mapStrings(s, (t) => (o.style === 'k8s' ? fix(t) : fix(t).replace(k8sTail, '')));
  for (const f of ['http/allexecutors.json', 'http/executors.json']) {
    editJson(s, f, (l: Json[]) => {
      for (const e of l) {
        const code = /(?:exited with code|exit code|Exit status:) (-?\d+)/.exec(e.removeReason ?? '')?.[1];
        if (code) e.removeReason = exitText(o, e.id, code, hostOf.get(e.id) ?? '');
      }
    });
  }
}

function yarnAttributes(o: RestyleOptions, exec: string, host: string): Json {
  return {
    CONTAINER_ID: containerOf(o, exec),
    USER: 'etl',
    NM_HOST: host,
    NM_PORT: '8041',
    NM_HTTP_PORT: '8042',
    LOG_FILES: 'stderr,stdout',
    HTTP_SCHEME: 'http://',
    CLUSTER_ID: '',
  };
}

/** YARN on EC2 names hosts `ip-a-b-c-d.ec2.internal`. */
function yarnHosts(s: Scn): void {
  const ips = new Set<string>();
  for (const v of s.files.values()) for (const m of v.matchAll(/\b10\.\d+\.\d+\.\d+\b/g)) ips.add(m[0]);
  replaceEverywhere(
    s,
    [...ips].map((ip) => [ip, `ip-${ip.replaceAll('.', '-')}.ec2.internal`]),
  );
}

function setMaster(s: Scn, style: Style): void {
  const env = getJson(s, 'http/environment.json');
  const drop = Object.fromEntries(
    (env.sparkProperties as Array<[string, string]>)
      .filter(([k]) => /^spark\.(kubernetes|yarn|ui\.custom)\./.test(k))
      .map(([k]) => [k, undefined]),
  );
  const master = {
    standalone: 'spark://spark-master.internal:7077',
    yarn: 'yarn',
    k8s: 'k8s://https://kubernetes.default.svc:443',
  };
  setProps(s, {
    ...drop,
    'spark.master': master[style],
    'spark.submit.deployMode': 'client',
    ...(style === 'k8s' ? { 'spark.kubernetes.namespace': 'spark-jobs' } : {}),
    ...(style === 'yarn' ? { 'spark.yarn.queue': 'etl' } : {}),
  });
}
