#!/usr/bin/env node
// Runs the compiled test files with node's test runner in ONE invocation, so the run ends with a
// single summary. `node scripts/run-tests.mjs [unit|integration|e2e ...]` picks suites.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const suites = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration', 'e2e'];

function collect(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return collect(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const files = suites.flatMap((s) => collect(join(root, s)).sort());
if (files.length === 0) {
  console.error(`no compiled test files under ${root} for ${suites.join(', ')}: run 'npm run build' first`);
  process.exit(1);
}
const concurrency = process.env.HARROW_TEST_CONCURRENCY ?? '2';
const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
