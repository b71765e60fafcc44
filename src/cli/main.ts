import { Command, CommanderError } from 'commander';
import { type Config, ConfigError, loadConfig } from '../core/config.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import type { Report } from '../core/report.ts';
import { parseTarget } from '../core/target.ts';
import { renderText } from '../report/text.ts';
import { investigateInProcess } from './investigate.ts';
import { configForTarget } from './target-servers.ts';

class ExitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

function printReport(report: Report, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${renderText(report)}\n`);
}

/**
 * `heal investigate` exit codes (README, docs/operator-guide.md): 0 a root cause was named, 1 a bug in Heal,
 * 2 bad input (target grammar, configuration), 3 nothing could be investigated (the platform was unreachable
 * or the run could not be pinned), 4 investigated but no root cause named (abstained, or the run did not fail).
 */
const EXIT = { diagnosed: 0, bug: 1, badInput: 2, unreachable: 3, abstained: 4 } as const;

function exitCodeOf(report: Report): number {
  if (report.rootCause) return EXIT.diagnosed;
  return report.pinned.ref === 'unpinned' ? EXIT.unreachable : EXIT.abstained;
}

async function investigate(words: string[], opts: { json?: boolean }, config: Config, log: Logger) {
  const parsed = parseTarget(words.join(' '));
  if (!parsed.ok) throw new ExitError(parsed.error, EXIT.badInput);
  // A human typed this path on the command line: local dbt artifacts are read wherever it points.
  const outcome = await investigateInProcess(parsed.target, {
    config: configForTarget(config, parsed.target),
    log,
    localRoots: 'any',
  });
  if (!outcome.ok) throw new ExitError(outcome.message, EXIT.unreachable);
  printReport(outcome.report, Boolean(opts.json));
  process.exitCode = exitCodeOf(outcome.report);
}

async function demo(opts: { out?: string }) {
  const { runDemo } = await import('./demo.ts');
  const { DemoError } = await import('./demo-procs.ts');
  process.stdout.write(
    "Heal demo: no Slack workspace or API key needed. Heal's real web and worker run against a local Slack\n" +
      'stand-in and local Spark, Airflow and dbt Cloud servers replaying three recorded failures.\n\n',
  );
  try {
    await runDemo(opts.out ? { out: opts.out } : {}, (text) => process.stdout.write(text));
  } catch (err) {
    if (err instanceof DemoError) throw new ExitError(err.message, 3);
    throw err;
  }
}

function errorFields(err: unknown): { err: string; stack?: string } {
  return err instanceof Error
    ? { err: err.message, ...(err.stack ? { stack: err.stack } : {}) }
    : { err: String(err) };
}

/**
 * Process-level handlers of `heal web` and `heal worker` (issue 13), installed before anything starts:
 * - `unhandledRejection`: logged (error) and the process keeps serving. A promise nobody awaited failed;
 *   the request or job it belonged to has failed, the process state has not (Node's default, since 15,
 *   would crash on it).
 * - `uncaughtException`: logged (fatal), then the process shuts down (8 s at most) and exits 1 for its
 *   supervisor to restart it. After a synchronous throw escaped every frame, Node does not guarantee a
 *   consistent state; restarting is cheap (all state is in Redis, jobs resume from their checkpoints).
 */
function installProcessHandlers(log: Logger, stop: (why: string, code: number) => Promise<void>): void {
  process.on('unhandledRejection', (reason) => {
    log.error(errorFields(reason), 'unhandled promise rejection (process keeps serving)');
  });
  process.on('uncaughtException', (err, origin) => {
    log.fatal({ ...errorFields(err), origin }, 'uncaught exception: shutting down');
    void stop('uncaughtException', 1);
  });
}

/** Runs a long-lived process until SIGTERM/SIGINT, then closes it cleanly. */
async function serve(start: () => Promise<{ close(): Promise<void> }>, log: Logger) {
  let handle: { close(): Promise<void> } | undefined;
  let stopping = false;
  const stop = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: why }, 'shutting down');
    const force = setTimeout(() => process.exit(code || 1), 8000);
    force.unref();
    await handle?.close().catch((err: unknown) => log.error(errorFields(err), 'close failed'));
    log.flush();
    process.exit(code);
  };
  installProcessHandlers(log, stop);
  handle = await start();
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
}

function program(): Command {
  const cmd = new Command('heal')
    .description('Heal: investigate broken data pipelines from their own evidence.')
    .exitOverride()
    .showHelpAfterError();
  const ctx = () => {
    const config = loadConfig();
    return { config, log: createLogger(config.LOG_LEVEL) };
  };
  cmd
    .command('investigate')
    .description('Investigate a failed run in-process and print the report (no Redis or Slack needed).')
    .argument('<target...>', 'spark <app-id>[/<attempt>] | a Spark History Server / Spark UI URL')
    .option('--json', 'print exactly the JSON report (DESIGN.md §3)')
    .action(async (words: string[], opts: { json?: boolean }) => {
      const { config, log } = ctx();
      await investigate(words, opts, config, log);
    });
  cmd
    .command('demo')
    .description(
      'Alert Heal (real web + worker) about three bundled failures (Spark, Airflow, dbt Cloud) through a local ' +
        'Slack stand-in and show the resulting threads, in the terminal and as an HTML page.',
    )
    .option('--out <file>', 'where to write the HTML page (default: a new temp dir)')
    .action(async (opts: { out?: string }) => demo(opts));
  cmd
    .command('web')
    .description('Run the Slack-facing web process (Bolt over HTTP, or Socket Mode with SLACK_APP_TOKEN).')
    .action(async () => {
      const { config, log } = ctx();
      const { startWeb } = await import('../bot/server.ts');
      await serve(() => startWeb(config, log), log);
    });
  cmd
    .command('worker')
    .description('Run a BullMQ worker that investigates queued incidents.')
    .action(async () => {
      const { config, log } = ctx();
      const { startWorker } = await import('../jobs/worker.ts');
      await serve(() => startWorker(config, log), log);
    });
  return cmd;
}

try {
  await program().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof ExitError || err instanceof ConfigError) {
    process.stderr.write(`heal: ${err.message}\n`);
    process.exit(err instanceof ExitError ? err.code : 2);
  }
  process.stderr.write(
    `heal: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
}
