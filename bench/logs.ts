/**
 * Log streaming benchmark: a local server streams a generated executor log (default 256 MiB, one error
 * burst every ~40k lines) and Heal's `streamLog` filters it. Reports throughput and the peak RSS growth,
 * which must stay far below the log size (bounded memory).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { streamLog } from '../src/adapters/spark/logs.ts';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/logger.ts';
import { measured } from './measure.ts';

const NOISE =
  '26/11/20 02:15:22 INFO ShuffleBlockFetcherIterator: Started 4 remote fetches in 3 ms for partition 17 of stage 3.0\n';
const BURST =
  '26/11/20 02:17:21 ERROR Executor: Exception in task 37.0 in stage 3.0 (TID 62)\njava.lang.OutOfMemoryError: Java heap space\n\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)\n';

function logServer(totalBytes: number) {
  const chunk = Buffer.from(NOISE.repeat(40_000) + BURST);
  return createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    let sent = 0;
    const pump = () => {
      while (sent < totalBytes) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => {
      sent = totalBytes;
    });
    pump();
  });
}

export async function benchLogs(totalMiB = 256): Promise<string> {
  const server = logServer(totalMiB * 1024 * 1024);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs/stderr`;
  const config = loadConfig({ HEAL_HTTP_TIMEOUT_MS: '120000', HEAL_LOG_MAX_BYTES: String(2 ** 40) });
  const ctx = { config, log: createLogger('silent') };
  const { result, seconds, rss0, peak } = await measured(
    () => streamLog({ executorId: '1', stream: 'stderr', url }, ctx),
    20,
  );
  server.close();
  if (result.status !== 'ok') throw new Error(result.message);
  const mib = result.data.bytesRead / 2 ** 20;
  return `logs: streamed ${mib.toFixed(0)} MiB in ${seconds.toFixed(2)} s (${(mib / seconds).toFixed(0)} MiB/s), kept ${result.data.lines.length} lines, peak RSS +${((peak - rss0) / 2 ** 20).toFixed(0)} MiB`;
}

if (process.argv[1]?.endsWith('logs.ts')) console.log(await benchLogs(Number(process.argv[2] ?? 256)));
