import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parameterImportance, MIN_RUNS_FOR_IMPORTANCE } from '../../../../strategies/analysis/parameter-importance.js';
import { IMPORTANCE_SPEC as spec, importanceRuns as synthetic } from '../../../../bench/importance-sweep.js';
import { Rng } from '../../../../strategies/space/rng.js';
import { sampleParams } from '../../../../strategies/space/sample-params.js';

test('importance: the two parameters that matter rank on top with intervals clear of the four that do not', () => {
  for (const seed of [1, 2, 3]) {
    const result = parameterImportance(spec, synthetic(300, seed), { seed });
    assert.equal(result.runs, 300);
    const names = result.parameters.map((p) => p.name);
    assert.deepEqual(new Set(names.slice(0, 2)), new Set(['lr', 'optimizer']), `seed ${seed}: ${names.join(', ')}`);
    assert.ok(names.includes('model.width'), 'nested parameters use dotted names');
    const [a, b, ...rest] = result.parameters;
    const topLow = Math.min(a!.low, b!.low);
    for (const p of rest) {
      assert.ok(p.high < topLow, `seed ${seed}: ${p.name} interval [${p.low}, ${p.high}] overlaps the top two (low ${topLow})`);
      assert.ok(Math.abs(p.importance) < 0.03, `seed ${seed}: ${p.name} importance ${p.importance} should be near zero`);
    }
    for (const p of result.parameters) assert.ok(p.low <= p.importance && p.importance <= p.high, `${p.name}: estimate inside its interval`);
  }
});

test('importance: correlation has the sign of the relation and is null only for non-numeric values', () => {
  // Loss grows with dropout, falls with width; nothing else matters.
  const rng = Rng.from(9);
  const runs = Array.from({ length: 200 }, (_, i) => {
    const params = sampleParams(spec.parameters, Rng.from(9, i));
    const width = (params.model as { width: number }).width;
    return { params, value: 3 * (params.dropout as number) - width + 0.01 * rng.normal() };
  });
  const byName = new Map(parameterImportance(spec, runs).parameters.map((p) => [p.name, p]));
  assert.ok(byName.get('dropout')!.correlation! > 0.7);
  assert.ok(byName.get('model.width')!.correlation! < -0.3);
  assert.equal(byName.get('optimizer')!.correlation, null);
  assert.equal(typeof byName.get('batch_size')!.correlation, 'number', 'a categorical of numbers has a correlation');
  assert.ok(Math.abs(byName.get('lr')!.correlation!) < 0.2);
});

test('importance: reproducible by seed; too few runs, constant values and runs outside the space are handled', () => {
  const runs = synthetic(60, 5);
  assert.deepEqual(parameterImportance(spec, runs, { seed: 4 }), parameterImportance(spec, runs, { seed: 4 }));

  const few = parameterImportance(spec, runs.slice(0, MIN_RUNS_FOR_IMPORTANCE - 1));
  assert.deepEqual(few.parameters, []);
  assert.match(few.note ?? '', /at least 10 runs/);

  const flat = parameterImportance(spec, runs.map((r) => ({ ...r, value: 1 })));
  assert.ok(flat.parameters.every((p) => p.importance === 0));

  const outside = [...runs, { params: { lr: 5, optimizer: 'adam' }, value: 0 }, { params: runs[0]!.params, value: Number.NaN }];
  assert.equal(parameterImportance(spec, outside).runs, 60);
});
