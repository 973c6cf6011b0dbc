/**
 * Parameter importance cost and quality at growing sweep sizes: time of one answer (the forest
 * grown from scratch, as after a cache miss) and whether the two parameters that drive the
 * synthetic metric rank on top. Target (dashboard issue): under 1 s at 10,000 runs.
 *
 *   npm run bench:importance [-- --sizes 1000,10000 --repeat 3]
 */
import { parseArgs } from 'node:util';
import { parameterImportance } from '../strategies/analysis/parameter-importance.js';
import { IMPORTANCE_SPEC as spec, importanceRuns } from './importance-sweep.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '100,1000,10000' }, repeat: { type: 'string', default: '3' } } });
const sizes = values.sizes.split(',').map(Number);
const repeat = Number(values.repeat);

console.log('parameter importance: 6 parameters (2 matter), times per answer, median of', repeat);
console.log('runs     median ms   max ms   top two            rest max importance');
for (const n of sizes) {
  const runs = importanceRuns(n, 7);
  const times: number[] = [];
  let result = parameterImportance(spec, runs, { seed: 1 });
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    result = parameterImportance(spec, runs, { seed: r });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const top = result.parameters.slice(0, 2).map((p) => p.name).sort().join(', ');
  const rest = Math.max(...result.parameters.slice(2).map((p) => p.importance));
  console.log(
    `${String(n).padEnd(8)} ${times[Math.floor(times.length / 2)]!.toFixed(0).padStart(9)} ${times[times.length - 1]!.toFixed(0).padStart(8)}   ${top.padEnd(18)} ${rest.toFixed(4)}`,
  );
}
