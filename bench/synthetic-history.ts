/**
 * The synthetic Spark History Server of test/support/syntheticHistory.ts in its own process, so its memory
 * is not counted as Heal's. Prints `LISTENING <port>` when ready. Usage: synthetic-history.ts [stages] [tasks]
 */
import { startSyntheticHistory } from '../test/support/syntheticHistory.ts';

const server = await startSyntheticHistory({
  stages: Number(process.argv[2] ?? 200),
  tasks: Number(process.argv[3] ?? 100_000),
});
console.log(`LISTENING ${new URL(server.base).port}`);
