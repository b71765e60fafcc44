import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullLogUrl, LogFilter, streamLog } from '../../../src/adapters/spark/logs.ts';
import type { AdapterContext } from '../../../src/adapters/types.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { createLogger } from '../../../src/core/logger.ts';

// The log server stands for a YARN NodeManager: its host must be on the allow-list (egress.ts).
const ctx: AdapterContext = {
  config: loadConfig({ HEAL_HTTP_TIMEOUT_MS: '5000', HEAL_FETCH_ALLOW_HOSTS: '127.0.0.1' }),
  log: createLogger('silent'),
};

const info = (i: number) => `26/11/20 02:00:00 INFO Executor: Finished task ${i}.0 in stage 1.0 (TID ${i})`;

describe('LogFilter', () => {
  it('keeps matches with context before and after, numbering lines from 1', () => {
    const f = new LogFilter({ context: 2 });
    const lines = Array.from({ length: 20 }, (_, i) => info(i + 1));
    lines[9] = '26/11/20 02:00:01 ERROR Executor: Exception in task 9.0 in stage 1.0 (TID 9)';
    f.push(`${lines.join('\n')}\n`);
    f.end();
    expect(f.lines().map((l) => l.n)).toEqual([8, 9, 10, 11, 12]);
    expect(f.lines()[2]?.text).toContain('ERROR Executor');
    expect(f.linesRead).toBe(20);
  });

  it('handles lines split across chunks, CRLF and a last line without newline', () => {
    const text = `${info(1)}\r\nINFO a\r\njava.lang.OutOfMemoryError: Java heap space\r\n${info(2)}\r\nfinal ERROR line`;
    const f = new LogFilter({ context: 0 });
    for (let i = 0; i < text.length; i += 7) f.push(text.slice(i, i + 7));
    f.end();
    expect(f.lines()).toEqual([
      { n: 3, text: 'java.lang.OutOfMemoryError: Java heap space' },
      { n: 5, text: 'final ERROR line' },
    ]);
  });

  it('cuts absurdly long lines without buffering them whole', () => {
    const f = new LogFilter({ context: 0, maxLineChars: 100 });
    f.push('ERROR ');
    for (let i = 0; i < 1000; i++) f.push('y'.repeat(1000));
    f.push('\nnext line\n');
    f.end();
    const [line] = f.lines();
    expect(f.lines()).toHaveLength(1);
    expect(line?.text.length).toBeLessThan(130);
    expect(line?.text).toMatch(/^ERROR y+ … \[line cut\]$/);
    expect(f.linesRead).toBe(2);
  });

  it('keeps the head and the tail when too many lines qualify, and says so', () => {
    const f = new LogFilter({ context: 0, maxLines: 10 });
    for (let i = 1; i <= 1000; i++) f.push(`ERROR failure number ${i}\n`);
    f.end();
    const lines = f.lines();
    expect(lines).toHaveLength(11);
    expect(lines.slice(0, 5).map((l) => l.n)).toEqual([1, 2, 3, 4, 5]);
    expect(lines[5]?.text).toContain('990 more matching/context lines omitted');
    expect(lines.slice(6).map((l) => l.n)).toEqual([996, 997, 998, 999, 1000]);
  });

  it('redacts secrets in kept lines, including PEM key bodies', () => {
    const f = new LogFilter({ context: 3 });
    f.push(
      [
        '-----BEGIN RSA PRIVATE KEY-----',
        'MIIEowIBAAKCAQEAsecretkeybody',
        '-----END RSA PRIVATE KEY-----',
        'ERROR S3AFileSystem: fs.s3a.secret.key=AbCdEfGh12345 rejected',
      ].join('\n'),
    );
    f.end();
    const text = f
      .lines()
      .map((l) => l.text)
      .join('\n');
    expect(f.lines()).toHaveLength(4);
    expect(text).not.toContain('secretkeybody');
    expect(text).not.toContain('AbCdEfGh12345');
  });

  it('decodes HTML log pages (YARN NodeManager, standalone logPage)', () => {
    const f = new LogFilter({ context: 0, html: true });
    f.push('<pre>ERROR x: List&lt;String&gt; &amp; more &#39;q&#39;</pre>\n');
    f.end();
    expect(f.lines()[0]?.text).toBe("ERROR x: List<String> & more 'q'");
  });
});

// A log of `total` bytes: INFO filler with an ERROR block every `every` lines, written in odd-sized chunks.
function logLine(i: number, every: number): string {
  return i % every === 0
    ? `26/11/20 02:00:00 ERROR Executor: Exception in task ${i} (marker-${i})\n`
    : `${info(i)}\n`;
}

describe('streamLog over HTTP', () => {
  const TOTAL_LINES = 120_000; // ~8.5 MB
  const EVERY = 20_000;
  let base = '';
  let close: () => Promise<void>;
  const sent = { bytes: 0, closedEarly: false };

  function writeLog(res: ServerResponse, lines: number) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    let i = 1;
    let pending = '';
    const pump = () => {
      while (i <= lines) {
        pending += logLine(i++, EVERY);
        if (pending.length < 65_521) continue; // odd size: chunks split lines mid-way
        const chunk = pending.slice(0, 65_521);
        pending = pending.slice(65_521);
        sent.bytes += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      sent.bytes += pending.length;
      res.end(pending);
    };
    res.on('close', () => {
      if (!res.writableFinished) sent.closedEarly = true;
    });
    pump();
  }

  beforeAll(async () => {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/big') return writeLog(res, TOTAL_LINES);
      if (path === '/huge') return writeLog(res, TOTAL_LINES * 8);
      if (path === '/cut') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('26/11/20 ERROR Executor: first\nINFO partial li');
        return setTimeout(() => res.destroy(), 20);
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('container log not found');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      });
  });
  afterAll(() => close());

  it('keeps only matching lines plus context from a multi-MB log', async () => {
    const r = await streamLog({ executorId: '3', stream: 'stderr', url: `${base}/big` }, ctx);
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    const markers = r.data.lines.filter((l) => l.text.includes('marker-'));
    expect(markers.map((l) => l.n)).toEqual([20_000, 40_000, 60_000, 80_000, 100_000, 120_000]);
    // 6 matches with 3 lines of context each side (none after the last line)
    expect(r.data.lines).toHaveLength(6 * 7 - 3);
    for (const l of r.data.lines) expect(l.text).toMatch(/^26\/11\/20 02:00:00 (INFO|ERROR) /);
    expect(r.data.bytesRead).toBe(sent.bytes);
    expect(r.data.bytesRead).toBeGreaterThan(8_000_000);
    expect(r.data).toMatchObject({ executorId: '3', stream: 'stderr', truncated: false });
  });

  it('stops at the byte budget, marks the excerpt truncated and cancels the body', async () => {
    sent.bytes = 0;
    sent.closedEarly = false;
    const r = await streamLog({ executorId: '3', stream: 'stderr', url: `${base}/huge` }, ctx, {
      maxBytes: 1_500_000,
    });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.data.truncated).toBe(true);
    expect(r.data.bytesRead).toBe(1_500_000);
    expect(r.data.lines.filter((l) => l.text.includes('marker-'))).toHaveLength(0);
    await new Promise((ok) => setTimeout(ok, 100));
    expect(sent.closedEarly).toBe(true);
    expect(sent.bytes).toBeLessThan(20_000_000);
  });

  it('returns what it read when the connection drops mid-log, with a note', async () => {
    const notes: string[] = [];
    const r = await streamLog({ executorId: '1', stream: 'stderr', url: `${base}/cut` }, ctx, {
      onNote: (n) => notes.push(n),
    });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.data.truncated).toBe(true);
    expect(r.data.lines[0]?.text).toContain('ERROR Executor: first');
    expect(notes.join()).toMatch(/executor 1 stderr log: read stopped after \d+ bytes/);
  });

  it('maps a missing log to no_data and refuses non-http URLs', async () => {
    const missing = await streamLog({ executorId: '2', stream: 'stdout', url: `${base}/nope` }, ctx);
    expect(missing.status).toBe('no_data');
    if (missing.status === 'no_data') {
      expect(missing.message).toBe('Spark executor 2 stdout log failed: HTTP 404 Not Found');
      expect(missing.message).not.toContain('container log not found');
    }
    const file = await streamLog({ executorId: '2', stream: 'stdout', url: 'file:///etc/passwd' }, ctx);
    expect(file).toMatchObject({ status: 'error', retryable: false });
  });

  it('asks YARN for the whole log instead of its last 4 KiB', () => {
    expect(fullLogUrl('http://nm:8042/node/containerlogs/c_1/etl/stderr?start=-4096')).toBe(
      'http://nm:8042/node/containerlogs/c_1/etl/stderr?start=0',
    );
    const standalone = 'http://w:8081/logPage/?appId=app-1&executorId=2&logType=stderr';
    expect(fullLogUrl(standalone)).toBe(standalone);
  });
});
