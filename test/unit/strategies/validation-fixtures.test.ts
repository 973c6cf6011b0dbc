/**
 * One fixture per validation error (test/fixtures/sweeps/invalid/*.yaml). Each file states its
 * expected errors in header comments: `# error: PATH` once per expected problem (the exact list of
 * paths, in order; an empty PATH is a problem with the file as a whole) and `# message: text`, a
 * substring the first error's message must contain.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SweepConfigError, parseSweepConfig, validateSweepConfig } from '../../../strategies/index.js';

const dir = new URL('../../../../test/fixtures/sweeps/invalid/', import.meta.url);

interface Expectation {
  paths: string[];
  message: string;
}

function expectations(text: string): Expectation {
  const paths: string[] = [];
  let message = '';
  for (const line of text.split('\n')) {
    const error = /^# error:(.*)$/.exec(line);
    if (error) paths.push(error[1]!.trim());
    const m = /^# message:(.*)$/.exec(line);
    if (m) message = m[1]!.trim();
  }
  return { paths, message };
}

/** Binary fixtures cannot carry comments. */
const BINARY: Record<string, Expectation> = {
  'binary.bin': { paths: [''], message: 'not UTF-8 text' },
  'utf16.bin': { paths: [''], message: 'binary' },
};

describe('validation fixtures', () => {
  const files = readdirSync(dir).sort();
  it('has a fixture for every listed kind of mistake', () => {
    assert.ok(files.length >= 45, `only ${files.length} fixtures`);
  });

  for (const file of files) {
    it(file, () => {
      const bytes = readFileSync(new URL(file, dir));
      const expected = file.endsWith('.yaml') ? expectations(bytes.toString('utf8')) : BINARY[file];
      assert.ok(expected && expected.paths.length > 0, `${file} states no expected error`);
      const input = file.endsWith('.yaml') ? bytes.toString('utf8') : new Uint8Array(bytes);
      const result = validateSweepConfig(input);
      assert.equal(result.valid, false);
      assert.equal(result.spec, undefined);
      assert.deepEqual(
        result.errors.map((e) => e.path),
        expected.paths,
        `errors were:\n${result.errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`,
      );
      assert.ok(
        result.errors[0]!.message.includes(expected.message),
        `first message ${JSON.stringify(result.errors[0]!.message)} lacks ${JSON.stringify(expected.message)}`,
      );
      for (const e of result.errors) assert.ok(e.message.length > 10 && !/\n/.test(e.message), `message: ${e.message}`);

      // parseSweepConfig throws the same issues, named, with a message listing them.
      assert.throws(
        () => parseSweepConfig(input),
        (err: unknown) =>
          err instanceof SweepConfigError &&
          err.name === 'SweepConfigError' &&
          err.issues.length === result.errors.length &&
          err.message.includes(result.errors[0]!.message),
      );
    });
  }
});
