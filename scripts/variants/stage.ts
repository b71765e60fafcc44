/**
 * Re-derives a stage attempt's aggregates from its task map, as the History Server does: stage totals are
 * sums over all task attempts (failed included), taskSummary quantiles are over SUCCESS tasks only (index
 * min(floor(q*n), n-1) of the sorted values), taskList is the 20 longest attempts.
 */
import { appPrefix, getJson, type Json, routeFile, type Scn, setJson } from './io.ts';

type Getter = (t: Json) => number;
const tm =
  (k: string): Getter =>
  (t) =>
    t.taskMetrics?.[k] ?? 0;
const sub =
  (o: string, k: string): Getter =>
  (t) =>
    t.taskMetrics?.[o]?.[k] ?? 0;
const push =
  (k: string): Getter =>
  (t) =>
    t.taskMetrics?.shuffleReadMetrics?.shufflePushReadMetrics?.[k] ?? 0;
const sr = (k: string) => sub('shuffleReadMetrics', k);

const TOP: Record<string, Getter> = {
  duration: (t) => t.duration ?? 0,
  gettingResultTime: (t) => t.gettingResultTime ?? 0,
  schedulerDelay: (t) => t.schedulerDelay ?? 0,
};
const NESTED: Record<string, Record<string, Getter>> = {
  inputMetrics: {
    bytesRead: sub('inputMetrics', 'bytesRead'),
    recordsRead: sub('inputMetrics', 'recordsRead'),
  },
  outputMetrics: {
    bytesWritten: sub('outputMetrics', 'bytesWritten'),
    recordsWritten: sub('outputMetrics', 'recordsWritten'),
  },
  shuffleReadMetrics: {
    readBytes: (t) => sr('remoteBytesRead')(t) + sr('localBytesRead')(t),
    readRecords: sr('recordsRead'),
    totalBlocksFetched: (t) => sr('remoteBlocksFetched')(t) + sr('localBlocksFetched')(t),
  },
  shuffleWriteMetrics: {
    writeBytes: sub('shuffleWriteMetrics', 'bytesWritten'),
    writeRecords: sub('shuffleWriteMetrics', 'recordsWritten'),
    writeTime: sub('shuffleWriteMetrics', 'writeTime'),
  },
};

function quantiles(values: number[], qs: number[]): number[] {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  return qs.map((q) => (n === 0 ? 0 : (v[Math.min(Math.floor(q * n), n - 1)] ?? 0)));
}

/** Recomputes a taskSummary body (same keys as `template`) over the SUCCESS tasks. */
export function taskSummary(tasks: Json[], template: Json): Json {
  const ok = tasks.filter((t) => t.status === 'SUCCESS');
  const qs: number[] = template.quantiles;
  const out: Json = { quantiles: qs };
  for (const [k, v] of Object.entries(template)) {
    if (k === 'quantiles') continue;
    if (Array.isArray(v)) out[k] = quantiles(ok.map(TOP[k] ?? tm(k)), qs);
    else out[k] = nestedSummary(k, v as Json, ok, qs);
  }
  return out;
}

function nestedSummary(group: string, v: Json, ok: Json[], qs: number[]): Json {
  const o: Json = {};
  for (const [k2, v2] of Object.entries(v)) {
    if (Array.isArray(v2)) o[k2] = quantiles(ok.map(NESTED[group]?.[k2] ?? sub(group, k2)), qs);
    else if (k2 === 'shufflePushReadMetricsDist') {
      o[k2] = Object.fromEntries(Object.keys(v2 as Json).map((k3) => [k3, quantiles(ok.map(push(k3)), qs)]));
    } else o[k2] = v2;
  }
  return o;
}

const readBytes: Getter = (t) => sr('remoteBytesRead')(t) + sr('localBytesRead')(t);

const SUMS: Record<string, Getter> = {
  executorRunTime: tm('executorRunTime'),
  executorCpuTime: tm('executorCpuTime'),
  jvmGcTime: tm('jvmGcTime'),
  memoryBytesSpilled: tm('memoryBytesSpilled'),
  diskBytesSpilled: tm('diskBytesSpilled'),
  inputBytes: sub('inputMetrics', 'bytesRead'),
  outputBytes: sub('outputMetrics', 'bytesWritten'),
  shuffleRemoteBytesRead: sr('remoteBytesRead'),
  shuffleLocalBytesRead: sr('localBytesRead'),
  shuffleReadBytes: readBytes,
  shuffleReadRecords: sr('recordsRead'),
  shuffleWriteBytes: sub('shuffleWriteMetrics', 'bytesWritten'),
};

/** Rewrites the stage totals, the executorSummary shuffle/spill sums, taskSummaries and taskList of one attempt. */
export function rederiveStageAttempt(s: Scn, sid: number, att: number): void {
  const prefix = `${appPrefix(s)}/stages/${sid}/${att}`;
  const main = routeFile(s, prefix);
  if (!main || !getJson(s, main).tasks) throw new Error(`stage ${sid}.${att} has no task map`);
  const stage = getJson(s, main);
  const tasks: Json[] = Object.values(stage.tasks);
  const totals = Object.fromEntries(
    Object.entries(SUMS).map(([k, g]) => [k, tasks.reduce((a, t) => a + g(t), 0)]),
  );
  const patch = (st: Json) => {
    if (st.stageId === sid && st.attemptId === att) Object.assign(st, totals);
    if (st.stageId === sid && st.attemptId === att && st.executorSummary) {
      for (const [eid, es] of Object.entries<Json>(st.executorSummary)) {
        const mine = tasks.filter((t) => t.executorId === eid);
        es.shuffleRead = mine.reduce((a, t) => a + readBytes(t), 0);
        es.taskTime = mine.reduce((a, t) => a + (t.duration ?? 0), 0);
      }
    }
  };
  for (const f of [...s.files.keys()].filter((f) => f.endsWith('.json'))) {
    const v = getJson(s, f);
    if (Array.isArray(v) && v.some((x) => x?.stageId === sid)) {
      for (const st of v) patch(st);
      setJson(s, f, v);
    } else if (v?.stageId === sid) {
      patch(v);
      setJson(s, f, v);
    }
  }
  for (const r of s.manifest.routes) {
    if (r.path === `${prefix}/taskSummary`) setJson(s, r.file, taskSummary(tasks, getJson(s, r.file)));
    if (r.path === `${prefix}/taskList`) {
      const top = [...tasks].sort((a, b) => b.duration - a.duration).slice(0, 20);
      setJson(s, r.file, top);
    }
  }
}
