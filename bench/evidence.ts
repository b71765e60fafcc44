/**
 * Big evidence: a generated executor log (1 GiB; --quick 128 MiB) written to a temp file, streamed by a
 * loopback server to Heal's `streamLog`, timed with its peak RSS, beside `grep -c ERROR` on the same file.
 */
import { execFile } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { streamLog } from '../src/adapters/spark/logs.ts';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/logger.ts';
import type { Row } from './load.ts';
import { measured } from './measure.ts';

const NOISE =
  '26/11/20 02:15:22 INFO ShuffleBlockFetcherIterator: Started 4 remote fetches in 3 ms for partition 17 of stage 3.0\n';
const BURST =
  '26/11/20 02:17:21 ERROR Executor: Exception in task 37.0 in stage 3.0 (TID 62)\njava.lang.OutOfMemoryError: Java heap space\n';

function writeLog(path: string, bytes: number): void {
  const chunk = Buffer.from(NOISE.repeat(40_000) + BURST);
  const fd = openSync(path, 'w');
  for (let n = 0; n < bytes; n += chunk.length) writeSync(fd, chunk);
  closeSync(fd);
}

export async function benchEvidence(mib: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'heal-bench-log-'));
  const file = join(dir, 'stderr');
  try {
    writeLog(file, mib * 2 ** 20);
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs/stderr`;
    const config = loadConfig({
      HEAL_HTTP_TIMEOUT_MS: '600000',
      HEAL_LOG_MAX_BYTES: String(2 ** 40),
      HEAL_FETCH_ALLOW_HOSTS: '127.0.0.1',
    });
    const {
      result,
      rss0,
      peak,
      seconds: heal,
    } = await measured(() =>
      streamLog({ executorId: '1', stream: 'stderr', url }, { config, log: createLogger('silent') }),
    );
    server.close();
    if (result.status !== 'ok') throw new Error(result.message);
    const g0 = performance.now();
    const { stdout } = await promisify(execFile)('grep', ['-c', 'ERROR', file]);
    const grep = (performance.now() - g0) / 1000;
    const read = result.data.bytesRead / 2 ** 20;
    return [
      {
        bench: `evidence: ${read.toFixed(0)} MiB executor log (HTTP stream)`,
        figure: `${heal.toFixed(2)} s, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (+${((peak - rss0) / 2 ** 20).toFixed(0)}), kept ${result.data.lines.length} lines`,
      },
      {
        bench: 'evidence: grep -c ERROR, same file',
        figure: `${grep.toFixed(2)} s (${stdout.trim()} matches); heal/grep ${(heal / grep).toFixed(1)}×`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
