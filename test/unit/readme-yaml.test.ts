/**
 * The READMEs stay true: every ```yaml block in README.md and strategies/README.md goes through
 * the real sweep parser. A block that is a whole sweep (it has `method` or `parameters`) must be
 * valid alone; a block that shows only some top-level keys (`harrow:`, `early_terminate:`) must be
 * valid added to a minimal sweep. A block that cannot be either starts with `# fragment` (rare).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { validateSweepConfig } from '../../strategies/index.js';

const ROOT = new URL('../../../', import.meta.url);
const FILES = ['README.md', 'strategies/README.md'];

/** What a partial block is added to: bayes and a metric, so that every `harrow:` key applies. */
const BASE = `method: bayes
metric: {name: loss, goal: minimize}
program: train.py
parameters:
  lr: {min: 0.001, max: 0.1}
`;

interface Block {
  file: string;
  line: number;
  text: string;
}

function yamlBlocks(file: string): Block[] {
  const lines = readFileSync(new URL(file, ROOT), 'utf8').split('\n');
  const blocks: Block[] = [];
  let open: Block | undefined;
  lines.forEach((l, i) => {
    if (open === undefined && /^\s*```yaml\s*$/.test(l)) open = { file, line: i + 1, text: '' };
    else if (open !== undefined && /^\s*```\s*$/.test(l)) {
      blocks.push(open);
      open = undefined;
    } else if (open !== undefined) open.text += `${l}\n`;
  });
  assert.equal(open, undefined, `${file}: a \`\`\`yaml block opened at line ${open?.line} never closes`);
  return blocks;
}

void test('the READMEs have yaml blocks to check (the extraction works)', () => {
  const counts = FILES.map((f) => yamlBlocks(f).length);
  assert.ok(counts.every((n) => n >= 2), JSON.stringify(counts));
});

for (const file of FILES) {
  for (const block of yamlBlocks(file)) {
    void test(`${file}:${block.line}: the yaml block is a valid sweep file${/^(method|parameters):/m.test(block.text) ? '' : ' part'}`, () => {
      if (/^# fragment\b/.test(block.text)) return;
      const whole = /^(method|parameters):/m.test(block.text);
      const result = validateSweepConfig(whole ? block.text : `${BASE}${block.text}`);
      assert.deepEqual(result.errors, [], `${file}:${block.line}:\n${block.text}`);
      assert.equal(result.valid, true);
    });
  }
}

void test('the YAML error for `${...}` inside [ ] says how to write it', () => {
  const result = validateSweepConfig(`${BASE}command: [\${env}, \${interpreter}, \${program}, \${args}]\n`);
  assert.equal(result.valid, false);
  assert.match(result.errors[0]!.message, /^YAML syntax: .*line 6.*use a block list .* or quote the element/);
  // The same list written either way is fine.
  assert.deepEqual(validateSweepConfig(`${BASE}command: ["\${env}", "\${program}", "\${args}"]\n`).errors, []);
  assert.deepEqual(validateSweepConfig(`${BASE}command:\n  - \${env}\n  - \${program}\n  - \${args}\n`).errors, []);
  // Another syntax error gets no such hint.
  const other = validateSweepConfig(`${BASE}command: [a, b\n`);
  assert.equal(other.valid, false);
  assert.doesNotMatch(other.errors[0]!.message, /block list/);
});
