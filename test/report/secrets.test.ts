/**
 * Every secret of the untrusted corpus, planted in a platform log and in every untrusted field of a report,
 * reaches none of the three sinks: the Slack messages, the uploaded Markdown report and the stored Report.
 */
import { describe, expect, it } from 'vitest';
import { numberEvidence } from '../../src/adapters/evidence.ts';
import { Report } from '../../src/core/report.ts';
import { buildReport } from '../../src/diagnosis/engine.ts';
import { renderEvidenceReplies, renderParent } from '../../src/report/blocks.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderText } from '../../src/report/text.ts';
import { type ReportUploader, uploadReportOnce } from '../../src/report/upload.ts';
import { findSecrets, SECRETS } from '../support/untrusted.ts';
import { skewReport, sparkTarget } from './fixtures.ts';

/** A driver log that prints the secret the way real jobs do, among ordinary lines. */
const driverLog = (context: string) =>
  [
    '26/11/20 02:15:01 INFO SparkContext: Running Spark version 3.5.1',
    `26/11/20 02:15:03 ERROR ApplicationMaster: User class threw exception: ${context}`,
    '26/11/20 02:15:03 INFO ShutdownHookManager: Shutdown hook called',
  ].join('\n');

/** The stored report as the adapters and the engine build it: evidence redacted at creation. */
function collectedReport(context: string): Report {
  const drafts = [
    {
      key: 'log:driver',
      source: 'spark.driver_log',
      title: `driver: ${context}`,
      excerpt: driverLog(context),
      ref: '/logs/driver',
    },
    {
      key: 'env',
      source: 'spark.environment',
      title: 'conf',
      excerpt: `--conf ${context}`,
      ref: '/environment',
    },
  ];
  const { evidence, evidenceIndex } = numberEvidence(drafts);
  const pin = {
    pinned: { ref: 'app-20261002031500-0117/1', codeRef: null, dataRef: null, deterministic: true },
    target: sparkTarget,
  };
  const collection = { evidence, evidenceIndex, gaps: [], facts: {} };
  return buildReport({
    incidentId: 'inc_s3cr3t',
    pin,
    collection,
    outcome: { failed: true, findings: [], notes: [] },
  });
}

/** A report with the raw secret in every untrusted field (as if an entry point had forgotten to redact). */
function hostileReport(context: string): Report {
  const base = skewReport();
  return Report.parse({
    ...base,
    pinned: { ...base.pinned, ref: `ref ${context}` },
    evidence: base.evidence.map((e) => ({ ...e, title: context, excerpt: driverLog(context), ref: context })),
    hypotheses: base.hypotheses.map((h) => ({ ...h, title: context, reasoning: `because ${context}` })),
    rootCause: base.rootCause && {
      ...base.rootCause,
      culprit: { ...base.rootCause.culprit, id: context },
      summary: `root cause: ${context}`,
    },
    remediation: {
      ...base.remediation,
      summary: context,
      prevention: context,
      monitoring: context,
      fix: { files: [context], diff: `+${context}\n` },
    },
    gaps: [`History Server at ${context}`],
  });
}

/** What Slack receives for a report: the thread parent (diagnosed and failed) and the evidence replies. */
function slackWire(report: Report, context: string): string {
  const base = { incidentId: report.id, target: report.target };
  const messages = [
    renderParent({ ...base, phase: 'diagnosed', report }),
    renderParent({ ...base, phase: 'failed', error: `pin failed: ${context}` }),
    renderParent({ ...base, phase: 'collected', progress: [context] }),
    ...renderEvidenceReplies(report),
  ];
  return JSON.stringify(messages);
}

/** The Markdown file as `uploadReportOnce` uploads it (fake Redis checkpoint, capturing uploader). */
async function uploaded(report: Report): Promise<string> {
  let content = '';
  const chain = { hset: () => chain, expire: () => chain, exec: async () => [] };
  const redis = { hgetall: async () => ({}), multi: () => chain };
  const uploader: ReportUploader = {
    uploadFile: async (_name, text) => {
      content = text;
      return { fileId: 'F0TEST' };
    },
    shareUpload: async () => undefined,
  };
  const deps = { redis: redis as never, prefix: 'heal', uploader };
  await uploadReportOnce(deps, { incidentId: report.id, channel: 'C0TEST', threadTs: '1.0' }, report);
  return content;
}

describe('no corpus secret reaches a sink', () => {
  it.each(SECRETS)('$id: the stored report round trip (evidence redacted at creation)', (s) => {
    const report = collectedReport(s.context);
    const stored = JSON.stringify(Report.parse(JSON.parse(JSON.stringify(report))));
    expect(findSecrets(stored)).toEqual([]);
    expect(stored).toContain('[REDACTED');
  });

  it.each(SECRETS)('$id: Slack messages and the Markdown report, from every untrusted field', async (s) => {
    const report = hostileReport(s.context);
    expect(findSecrets(slackWire(report, s.context)), 'slack').toEqual([]);
    expect(findSecrets(renderMarkdown(report)), 'markdown').toEqual([]);
    expect(findSecrets(await uploaded(report)), 'uploaded file').toEqual([]);
    expect(findSecrets(renderText(report)), 'terminal').toEqual([]);
  });
});
