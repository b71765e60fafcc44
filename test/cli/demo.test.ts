import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/cli/fixture-server.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function npmRunDemo(out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Exactly the README's command; no Slack, API key or REDIS_URL in the environment.
    const child = spawn('npm', ['run', '--silent', 'demo', '--', '--out', out], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const examples = readdirSync(join(ROOT, 'examples'))
  .map((d) => join(ROOT, 'examples', d))
  .filter((d) => statSync(d).isDirectory() && existsSync(join(d, 'alert.json')))
  .map(loadScenario);

describe('npm run demo', () => {
  it('bundles one Spark, one Airflow and one dbt example', () => {
    expect(examples.map((e) => e.platform).sort()).toEqual(['airflow', 'dbt', 'spark']);
  });

  it('alerts the real web + worker and shows three diagnosed threads in the terminal and in Chromium', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heal-demo-test-'));
    const out = join(dir, 'threads.html');
    const run = await npmRunDemo(out);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain(`The threads as they would read in Slack: ${out}`);
    for (const e of examples) expect(run.stdout).toContain(`${e.expect.category} · confidence`);
    expect(run.stdout).toMatch(/Culprit:\s+stage 3/);

    // Everything the demo started is gone: its Redis keys, its processes' ports answer nothing.
    const prefix = run.stdout.match(/keys under `([^`]+):`/)?.[1];
    expect(prefix).toMatch(/^heal-demo-/);
    const redis = new Redis('redis://127.0.0.1:6379');
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    await redis.quit();

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
      await page.goto(`file://${out}`);
      const threads = page.locator('section.thread');
      expect(await threads.count()).toBe(3);
      const texts = await threads.allInnerTexts();
      for (const e of examples) {
        const thread = texts.find((t) => t.includes(`${e.expect.category} · confidence`));
        expect(thread, `a thread names ${e.expect.category}`).toBeDefined();
        expect(thread?.toLowerCase()).toContain(
          String(e.expect.culprit?.aliases?.[0] ?? e.expect.culprit?.id).toLowerCase(),
        );
        expect(thread).toContain('Root cause:');
      }
      expect(
        await page.locator('.message.reply .author', { hasText: 'Heal' }).count(),
      ).toBeGreaterThanOrEqual(3);
      const png = join(dir, 'demo.png');
      await page.screenshot({ path: png, fullPage: false });
      expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
      process.stdout.write(`demo screenshot: ${png}\n`);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
