/**
 * Parameter importance cost and quality at growing sweep sizes: time of one answer (the forest
 * grown from scratch, as after a cache miss) and whether the two parameters that drive the
 * synthetic metric rank on top. Target (dashboard issue): under 1 s at 10,000 runs.
 *
 *   npm run bench:importance [-- --sizes 1000,10000 --repeat 3]
 */
import { parseArgs } from 'node:util';
import { parameterImportance } from '../strategies/analysis/parameter-importance.js';
import { parseSweepConfig } from '../strategies/index.js';
import { Rng } from '../strategies/space/rng.js';
import { sampleParams } from '../strategies/space/sample-params.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '100,1000,10000' }, repeat: { type: 'string', default: '3' } } });
const sizes = values.sizes.split(',').map(Number);
const repeat = Number(values.repeat);

const spec = parseSweepConfig({
  method: 'random',
  program: 'train.py',
  metric: { name: 'loss', goal: 'minimize' },
  parameters: {
    lr: { distribution: 'log_uniform_values', min: 1e-5, max: 1e-1 },
    optimizer: { values: ['adam', 'sgd', 'rmsprop'] },
    dropout: { min: 0.0, max: 0.5 },
    batch_size: { values: [16, 32, 64, 128] },
    seed_noise: { distribution: 'int_uniform', min: 0, max: 1000 },
    model: { parameters: { width: { min: 0.1, max: 1.0 } } },
  },
});

console.log('parameter importance: 6 parameters (2 matter), times per answer, median of', repeat);
console.log('runs     median ms   max ms   top two            rest max importance');
for (const n of sizes) {
  const noise = Rng.from(n);
  const runs = Array.from({ length: n }, (_, i) => {
    const params = sampleParams(spec.parameters, Rng.from(7, i));
    const opt = params.optimizer;
    return { params: params, value: (Math.log10(params.lr as number) + 3) ** 2 + (opt === 'sgd' ? 2 : opt === 'rmsprop' ? 1 : 0) + 0.1 * noise.normal() };
  });
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
