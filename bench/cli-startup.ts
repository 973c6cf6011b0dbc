/**
 * CLI startup benchmark: how long `harrow --help` and a few client verbs take to start and exit,
 * as a ratio to `node -e 0` measured in the same run (the machine's own floor), so the figure
 * means the same on a laptop and on a loaded CI box.
 *
 *   npm run bench:cli        (node dist/bench/cli-startup.js [--runs N])
 *
 * Each command runs N times (default 7), the commands interleaved so that a burst of load on a
 * shared machine hits them all alike; the median is printed. Client verbs talk to a port nothing
 * listens on, so they start, parse, load what they need, fail fast (ECONNREFUSED) and exit: the
 * cost of starting, without the server's. Target (issue 12): every client verb under 250 ms, which
 * at `node -e 0` ≈ 0.1 s on an idle box means a ratio below about 2.5.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BIN = fileURLToPath(new URL('../../bin/harrow', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/sweep.yaml', import.meta.url));

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
  console.error('bench:cli: --runs takes a whole number from 1 to 100');
  process.exit(2);
}

const CASES: Array<{ label: string; args: string[] }> = [
  { label: 'node -e 0', args: ['-e', '0'] },
  { label: 'harrow --help', args: [BIN, '--help'] },
  { label: 'harrow status --help', args: [BIN, 'status', '--help'] },
  { label: 'harrow agent --help', args: [BIN, 'agent', '--help'] },
  { label: 'harrow server --help', args: [BIN, 'server', '--help'] },
  { label: 'harrow status (no server)', args: [BIN, 'status'] },
  { label: 'harrow runs SWEEP (no server)', args: [BIN, 'runs', 'k3x9q2ab'] },
  { label: 'harrow validate FILE', args: [BIN, 'validate', EXAMPLE] },
  { label: 'harrow preview FILE -n 5', args: [BIN, 'preview', EXAMPLE, '-n', '5'] },
];

const env = { ...process.env, HARROW_URL: 'http://127.0.0.1:9', NO_COLOR: '1' };
const times: number[][] = CASES.map(() => []);
for (let r = 0; r < runs; r++) {
  CASES.forEach((c, i) => {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, c.args, { env, stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.error) throw result.error;
    times[i]!.push(ms);
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const floor = median(times[0]!);
console.log(`CLI startup, median of ${runs} runs (node ${process.version}; ratio to node -e 0 in this run)\n`);
console.log(`${'command'.padEnd(32)} ${'ms'.padStart(6)} ${'ratio'.padStart(6)}`);
CASES.forEach((c, i) => {
  const ms = median(times[i]!);
  console.log(`${c.label.padEnd(32)} ${ms.toFixed(0).padStart(6)} ${(ms / floor).toFixed(2).padStart(6)}`);
});
