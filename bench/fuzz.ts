/**
 * `npm run fuzz`: the fuzz harness of test/fuzz (seeded, bounded) at scale, printing its figures:
 * cases run, crashes, the agent's fd delta and RSS before/after. Exits 1 if any check failed
 * (crash, fds not back to baseline, RSS growth over the bound, no valid SVID afterwards), with
 * the seed and case range that reproduce it.
 *
 *   npm run fuzz [-- --seed 14 --cases 100000 --from 0 --concurrency 32]
 *   (FUZZ_SEED and FUZZ_CASES are read too; arguments win)
 */
import { parseArgs } from 'node:util';
import { runFuzz } from '../test/fuzz/support/fuzz-run';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: process.env.FUZZ_SEED ?? String(Date.now() % 1_000_000) },
    cases: { type: 'string', default: process.env.FUZZ_CASES ?? '100000' },
    from: { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '32' },
  },
});

async function main(): Promise<void> {
  const report = await runFuzz({ seed: Number(values.seed), cases: Number(values.cases), from: Number(values.from), concurrency: Number(values.concurrency), log: (line) => console.log(line) });
  const seconds = report.elapsedMs / 1000;
  console.log(`meshid fuzz, seed ${report.seed}, cases ${report.from}..${report.from + report.casesRun - 1}:`);
  console.log(`  cases run ${report.casesRun} in ${(report.casesMs / 1000).toFixed(1)} s (${Math.round(report.casesRun / (report.casesMs / 1000))}/s), then ${(report.settleMs / 1000).toFixed(1)} s until the agent's fds were back to baseline; ${seconds.toFixed(1)} s in all; refused at connect ${report.connectRefused}`);
  console.log(`  crashes ${report.crashes}`);
  console.log(`  agent fds: baseline ${report.fdBaseline}, after ${report.fdAfter} (delta ${report.fdAfter - report.fdBaseline})`);
  console.log(`  agent RSS: before ${report.rssBeforeMb} MB, peak ${report.rssPeakMb} MB, after ${report.rssAfterMb} MB`);
  console.log(`  SVID after the run: ${report.svidVerified ? 'served, chains to the bundle' : 'NOT VERIFIED'}`);
  if (report.failures.length) {
    console.log(`FAILED:\n${report.failures.join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
