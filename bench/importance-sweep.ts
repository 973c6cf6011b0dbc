/**
 * The synthetic sweep of the parameter-importance benchmark and of its test: two parameters that
 * matter (a log-scaled learning rate and a categorical), four that do not (one nested).
 */
import { parseSweepConfig } from '../strategies/index.js';
import { Rng } from '../strategies/space/rng.js';
import { sampleParams } from '../strategies/space/sample-params.js';
import type { Params } from '../strategies/types.js';

export const IMPORTANCE_SPEC = parseSweepConfig({
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

/** `n` runs of IMPORTANCE_SPEC: loss is a bowl in log10(lr) around 1e-3 plus an optimizer offset, with a little noise. */
export function importanceRuns(n: number, seed: number): Array<{ params: Params; value: number }> {
  const rng = Rng.from(seed);
  return Array.from({ length: n }, (_, i) => {
    const params = sampleParams(IMPORTANCE_SPEC.parameters, Rng.from(seed, i));
    const lr = params.lr as number;
    const opt = params.optimizer as string;
    const value = (Math.log10(lr) + 3) ** 2 + (opt === 'sgd' ? 2 : opt === 'rmsprop' ? 1 : 0) + 0.1 * rng.normal();
    return { params, value };
  });
}
