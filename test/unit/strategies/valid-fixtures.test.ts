/**
 * Realistic sweep files (test/fixtures/sweeps/valid/) parse, warn exactly where their header says
 * (`# warnings: PATH, ...`), give the grid size they state (`# runs: N`), and run end to end:
 * a strategy proposes configurations inside the space and the command renders.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createGridStrategy, createRandomStrategy, gridSize, parseSweepConfig, renderCommand } from '../../../strategies/index.js';
import { assertInSpace } from './conformance.js';

const dir = new URL('../../../../test/fixtures/sweeps/valid/', import.meta.url);

describe('valid sweep files', () => {
  for (const file of readdirSync(dir).sort()) {
    it(file, () => {
      const text = readFileSync(new URL(file, dir), 'utf8');
      const spec = parseSweepConfig(text);
      const warnings = /^# warnings:(.*)$/m.exec(text)?.[1]?.trim() ?? '';
      assert.deepEqual(
        spec.warnings.map((w) => w.path),
        warnings === '' ? [] : warnings.split(/,\s*/),
        spec.warnings.map((w) => `${w.path}: ${w.message}`).join('\n'),
      );
      const runs = /^# runs: (\d+)$/m.exec(text)?.[1];
      if (runs !== undefined) assert.equal(gridSize(spec), Number(runs));
      const strategy = spec.method === 'grid' ? createGridStrategy(spec) : createRandomStrategy(spec, { seed: 1 });
      const proposals = strategy.propose({ observations: [], pending: [], count: 5 });
      assert.equal(proposals.length, 5);
      for (const p of proposals) {
        assertInSpace(spec, p.params);
        const argv = renderCommand(spec.command, p.params, { env: { DATA_DIR: '/data' }, argsJsonFile: '/tmp/p.json', ...(spec.program ? { program: spec.program } : {}) });
        assert.ok(argv.length > 0 && argv.every((a) => typeof a === 'string' && !a.includes('${')), argv.join(' '));
      }
    });
  }
});
