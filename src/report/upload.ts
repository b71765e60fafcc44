import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.ts';
import type { Report } from '../core/report.ts';
import { markdownFilename, renderMarkdown } from './markdown.ts';
import type { UploadedFile } from './publisher.ts';

/** The two halves of Slack's external upload (SlackPublisher implements them). */
export interface ReportUploader {
  /** files.getUploadURLExternal + the POST to the upload URL; the file is not shared yet. */
  uploadFile(filename: string, content: string): Promise<UploadedFile>;
  /** files.completeUploadExternal into the thread. */
  shareUpload(file: UploadedFile, title: string, channel: string, threadTs: string): Promise<void>;
}

export function isReportUploader(p: unknown): p is ReportUploader {
  const o = p as Partial<ReportUploader> | null;
  return typeof o?.uploadFile === 'function' && typeof o?.shareUpload === 'function';
}

export interface ReportFileDeps {
  redis: Redis;
  /** HEAL_QUEUE_PREFIX. */
  prefix: string;
  uploader: ReportUploader;
  log?: Logger;
}

export interface ReportFileTarget {
  incidentId: string;
  channel: string;
  threadTs: string;
}

export type ReportFileOutcome = 'shared' | 'already_shared' | 'not_shared';

const TTL_S = 30 * 24 * 3600;

/**
 * Uploads the Markdown incident report to the thread exactly once per incident, checkpointing each step in
 * Redis (`<prefix>:report-file:<id>`, not under `incident:*`, which is scanned): a restarted job reuses an
 * uploaded file and never shares it
 * twice. A Slack refusal that retrying cannot fix (e.g. `missing_scope`) is logged and the report is left
 * out (the thread already holds the diagnosis); rate limits and outages throw so the job retries.
 */
export async function uploadReportOnce(
  deps: ReportFileDeps,
  target: ReportFileTarget,
  report: Report,
): Promise<ReportFileOutcome> {
  const key = `${deps.prefix}:report-file:${target.incidentId}`;
  const saved = await deps.redis.hgetall(key);
  if (saved.state === 'shared' || saved.state === 'refused')
    return saved.state === 'shared' ? 'already_shared' : 'not_shared';
  try {
    let file: UploadedFile;
    if (saved.state === 'uploaded' && saved.fileId) file = { fileId: saved.fileId };
    else {
      file = await deps.uploader.uploadFile(markdownFilename(report), renderMarkdown(report));
      await deps.redis
        .multi()
        .hset(key, { state: 'uploaded', fileId: file.fileId })
        .expire(key, TTL_S)
        .exec();
    }
    await deps.uploader.shareUpload(file, `Incident report ${report.id}`, target.channel, target.threadTs);
    await deps.redis.multi().hset(key, 'state', 'shared').expire(key, TTL_S).exec();
    return 'shared';
  } catch (err) {
    if ((err as { retryable?: unknown } | null)?.retryable !== false) throw err;
    deps.log?.warn({ err: String(err), incidentId: target.incidentId }, 'incident report file not uploaded');
    await deps.redis.multi().hset(key, 'state', 'refused').expire(key, TTL_S).exec();
    return 'not_shared';
  }
}
