/**
 * `harrow validate FILE [--json]`: checks a sweep file locally (no server) and prints either the
 * parameters with their resolved distributions, or every problem as `PATH: message`.
 */
import { readFile } from 'node:fs/promises';
// The sweep language only (not strategies/index.js, which loads the Bayesian optimizer too):
// `harrow validate` is a quick check.
import { validateSweepConfig, type ValidationResult } from '../../strategies/spec/validate-sweep-config.js';
import { createGridStrategy } from '../../strategies/grid/grid-strategy.js';
import { flattenParameters } from '../../strategies/space/flatten.js';
import { leafCount } from '../../strategies/space/leaf-model.js';
import type { EarlyTerminateSpec, Issue, JsonValue, ParameterSpec, SweepSpec } from '../../strategies/types.js';
import type { Command } from '../command.js';
import { formatNumber, paint, type Style } from '../format.js';
import { parseCliArgs, positionalArgs, printerFor, type OutputStream, type Printer } from './api-verb.js';

/** What a local verb reads and writes; tests pass their own. */
export interface LocalVerbIO {
  stdout: OutputStream;
  env: Record<string, string | undefined>;
}

/** A verb that needs no server, runnable in-process against any output (`runWith`). */
export interface LocalVerb extends Command {
  runWith(argv: string[], io: LocalVerbIO): Promise<number>;
}

export function defineLocalVerb(spec: {
  name: string;
  usage: string;
  run(argv: string[], out: Printer, env: Record<string, string | undefined>): Promise<number>;
}): LocalVerb {
  const runWith = (argv: string[], io: LocalVerbIO): Promise<number> => spec.run(argv, printerFor(io.stdout, io.env), io.env);
  return {
    name: spec.name,
    usage: spec.usage,
    runWith,
    run: (argv) => runWith(argv, { stdout: process.stdout, env: process.env }),
  };
}


const USAGE = `Usage: harrow validate FILE [--json]

Checks a sweep file (W&B format, YAML or JSON) without a server. Prints the parameters with
their resolved distributions and, for a grid, the number of runs; or every problem found, each
as PATH: message, and exits 1.

Options:
  --json   print { valid, errors: [{ path, message }], warnings, spec } as JSON`;

export const validateCommand = defineLocalVerb({
  name: 'validate',
  usage: USAGE,
  async run(argv, out) {
    const { values, positionals } = parseCliArgs(argv, { json: { type: 'boolean' } });
    const [file] = positionalArgs(positionals, ['FILE'], 'give the path of a sweep file such as sweep.yaml');
    const result = await validateFile(file);
    if (values.json) {
      out.json({ valid: result.valid, errors: result.errors, warnings: result.warnings, spec: result.spec ?? null });
      return result.valid ? 0 : 1;
    }
    if (!result.valid || !result.spec) {
      printProblems(out, file, result);
      return 1;
    }
    printSpec(out, file, result.spec);
    return 0;
  },
});

/**
 * Validates a file's bytes. A file that cannot be read is reported like any other problem (path
 * `''`), so `--json` output stays machine-readable and nothing prints a stack trace.
 */
export async function validateFile(file: string): Promise<ValidationResult> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : err instanceof Error
              ? err.message
              : String(err);
    return { valid: false, errors: [{ path: '', message: `cannot read ${file}: ${why}` }], warnings: [] };
  }
  return validateSweepConfig(bytes);
}

function issueLine(issue: Issue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

export function printProblems(out: Printer, file: string, result: ValidationResult): void {
  const n = result.errors.length;
  out.line(paint(out.style, 'red', `${file}: ${n === 1 ? '1 problem' : `${n} problems`}`));
  for (const e of result.errors) out.line(`  ${issueLine(e)}`);
  printWarnings(out, result.warnings);
}

export function printWarnings(out: Printer, warnings: readonly Issue[]): void {
  if (warnings.length === 0) return;
  out.line('', paint(out.style, 'yellow', warnings.length === 1 ? 'warning:' : 'warnings:'));
  for (const w of warnings) out.line(`  ${issueLine(w)}`);
}

/** `random sweep, up to 50 runs`, `grid sweep, 24 runs`: the one-line summary. */
export function describeSweep(spec: SweepSpec): string {
  const grid = spec.method === 'grid' ? createGridStrategy(spec).size : null;
  const runs = grid !== null ? `${grid} run${grid === 1 ? '' : 's'}` : spec.runCap !== undefined ? `up to ${spec.runCap} runs` : 'no run cap';
  return `${spec.method} sweep, ${runs}`;
}

function printSpec(out: Printer, file: string, spec: SweepSpec): void {
  out.line(`${file}: ${paint(out.style, 'green', 'valid')} ${describeSweep(spec)}`);
  if (spec.name !== undefined) out.line(`  name: ${spec.name}`);
  if (spec.metric) {
    const target = spec.metric.target !== undefined ? `, stop at ${formatNumber(spec.metric.target)}` : '';
    out.line(`  metric: ${spec.metric.goal} ${spec.metric.name}${target}`);
  }
  if (spec.earlyTerminate) out.line(`  early termination: ${describeEarlyTerminate(spec.earlyTerminate)}`);
  if (spec.program !== undefined) out.line(`  program: ${spec.program}`);
  out.line(`  command: ${spec.command.join(' ')}`);
  if (spec.harrow.seed !== undefined) out.line(`  seed: ${spec.harrow.seed}`);
  const bayes = spec.harrow.bayes;
  if (bayes !== undefined && Object.keys(bayes).length > 0) {
    const parts = [
      bayes.prior !== undefined ? `prior ${bayes.prior}` : '',
      bayes.deterministic !== undefined ? (bayes.deterministic ? 'deterministic' : 'noise learned') : '',
      bayes.initialDesign !== undefined ? `initial design ${bayes.initialDesign} runs` : '',
      bayes.trustRegion !== undefined ? (bayes.trustRegion ? 'trust region' : 'no trust region (whole space)') : '',
      bayes.multiFidelity !== undefined ? (bayes.multiFidelity ? 'stopped runs scored from their learning curves' : 'stopped runs scored per metric.impute') : '',
    ].filter(Boolean);
    out.line(`  bayes: ${parts.join(', ')}`);
  }
  const retry = spec.harrow.retry;
  out.line(`  retries: ${retry.maxAttempts <= 1 || retry.on.length === 0 ? 'none' : `up to ${retry.maxAttempts - 1} on ${retry.on.join(' or ')}`}`);

  const rows = flattenParameters(spec.parameters).map((p) => [p.name, p.spec.distribution, describeParameter(p.spec)]);
  out.line('', 'parameters (in search order):');
  out.line(...table(['NAME', 'DISTRIBUTION', 'VALUES'], rows, out.style));
  printWarnings(out, spec.warnings);
}

function describeEarlyTerminate(et: EarlyTerminateSpec): string {
  switch (et.type) {
    case 'hyperband': {
      const shown = et.bands.slice(0, 5).join(', ');
      return `hyperband, bands ${shown}${et.bands.length > 5 ? ', ...' : ''} (eta ${formatNumber(et.eta)}, ${et.strict ? 'strict' : 'not strict'})`;
    }
    case 'asha':
      return `asha, grace period ${et.gracePeriod}, eta ${formatNumber(et.eta)}${et.maxIter !== undefined ? `, max ${et.maxIter}` : ''}, ${et.minRunsPerRung} runs per rung`;
    case 'median':
      return `median, after ${et.minSteps} values, once ${et.minRuns} runs have them`;
    case 'model':
      return `model (learning-curve prediction), judged after ${et.at.join(', ')} values, z ${formatNumber(et.z)}`;
  }
}

function compact(v: JsonValue, max = 60): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function range(min: number, max: number): string {
  return `${formatNumber(min)} .. ${formatNumber(max)}`;
}

/** What a leaf draws from, in words a user checks at a glance. */
export function describeParameter(spec: ParameterSpec): string {
  const count = spec.distribution === 'nested' ? Infinity : leafCount(spec);
  const levels = Number.isFinite(count) && count > 1 ? ` (${count} values)` : '';
  switch (spec.distribution) {
    case 'nested':
      return '';
    case 'constant':
      return compact(spec.value);
    case 'categorical':
      return `${compact(spec.values)}${levels}`;
    case 'categorical_w_probabilities':
      return compact(spec.values.map((v, i) => `${compact(v, 20)} ${formatNumber(spec.probabilities[i] ?? 0, 3)}`).join(', '), 70);
    case 'int_uniform':
      return `${spec.min} .. ${spec.max}${levels}`;
    case 'uniform':
      return range(spec.min, spec.max);
    case 'log_uniform_values':
    case 'inv_log_uniform_values':
      return `${range(spec.min, spec.max)}, log scale`;
    case 'log_uniform':
      return `e^${formatNumber(spec.min)} .. e^${formatNumber(spec.max)} = ${range(Math.exp(spec.min), Math.exp(spec.max))}, log scale`;
    case 'inv_log_uniform':
      return `e^-${formatNumber(spec.max)} .. e^-${formatNumber(spec.min)} = ${range(Math.exp(-spec.max), Math.exp(-spec.min))}, log scale`;
    case 'q_uniform':
      return `${range(spec.min, spec.max)} step ${formatNumber(spec.q)}${levels}`;
    case 'q_log_uniform_values':
      return `${range(spec.min, spec.max)} step ${formatNumber(spec.q)}, log scale${levels}`;
    case 'q_log_uniform':
      return `${range(Math.exp(spec.min), Math.exp(spec.max))} step ${formatNumber(spec.q)}, log scale${levels}`;
    case 'normal':
      return `mean ${formatNumber(spec.mu)}, sd ${formatNumber(spec.sigma)}`;
    case 'q_normal':
      return `mean ${formatNumber(spec.mu)}, sd ${formatNumber(spec.sigma)}, step ${formatNumber(spec.q)}`;
    case 'log_normal':
      return `ln x: mean ${formatNumber(spec.mu)}, sd ${formatNumber(spec.sigma)}`;
    case 'q_log_normal':
      return `ln x: mean ${formatNumber(spec.mu)}, sd ${formatNumber(spec.sigma)}, step ${formatNumber(spec.q)}`;
    case 'beta':
      return `a ${formatNumber(spec.a)}, b ${formatNumber(spec.b)}`;
    case 'q_beta':
      return `a ${formatNumber(spec.a)}, b ${formatNumber(spec.b)}, step ${formatNumber(spec.q)}${levels}`;
  }
}

/** Left-aligned columns, two spaces apart, the header dimmed. */
export function table(header: string[], rows: string[][], style: Style): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]): string => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  return [paint(style, 'dim', fmt(header)), ...rows.map(fmt)];
}
