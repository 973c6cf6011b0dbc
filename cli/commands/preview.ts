/**
 * `harrow preview FILE [-n N] [--seed S] [--json]`: the first configurations a sweep would try
 * before any result exists, and the command line of the first, computed locally with the same
 * strategy code the server runs. With the sweep's seed (`harrow.seed` or `--seed`), this is
 * exactly what the server will hand out first.
 */
import { createStrategy, flattenParameters, renderCommand, type JsonValue, type Params } from '../../strategies/index.js';
import { getPath } from '../../strategies/space/flatten.js';
import { UsageError } from '../command.js';
import { formatNumber } from '../format.js';
import { intOption, parseCliArgs, positionalArgs } from './api-verb.js';
import { defineLocalVerb, describeSweep, printProblems, printWarnings, table, validateFile } from './validate.js';

const USAGE = `Usage: harrow preview FILE [-n N] [--seed S] [--json]

Shows the first N configurations the sweep would try before any result exists (random draws,
grid cells in order, or the Bayesian strategy's initial design), and the command line the agent
would run for the first one. Nothing is sent to a server.

Options:
  -n, --count N   how many configurations (default 10, at most 10000)
  --seed S        the seed (default: the file's harrow.seed, else 0; the server picks a random
                  seed for a sweep without harrow.seed, so set it to make this preview exact)
  --json          print { method, seed, size, configurations, command } as JSON`;

/** Placeholder shown for `${args_json_file}`: the agent writes the file in the run's directory. */
const PARAMS_FILE_PLACEHOLDER = '<run-dir>/params.json';
const MAX_COUNT = 10_000;

export const previewCommand = defineLocalVerb({
  name: 'preview',
  usage: USAGE,
  async run(argv, out, env) {
    const { values, positionals } = parseCliArgs(argv, {
      count: { type: 'string', short: 'n' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
    });
    const [file] = positionalArgs(positionals, ['FILE'], 'give the path of a sweep file such as sweep.yaml');
    const count = intOption('count', values.count, 1, MAX_COUNT) ?? 10;
    const seedOption = parseSeed(values.seed);

    const result = await validateFile(file);
    if (!result.valid || !result.spec) {
      if (values.json) out.json({ valid: false, errors: result.errors, warnings: result.warnings });
      else printProblems(out, file, result);
      return 1;
    }
    const spec = result.spec;
    const seed = seedOption ?? spec.harrow.seed ?? 0;
    const strategy = createStrategy(spec, { seed });
    const configurations = strategy.propose({ observations: [], pending: [], count }).map((p) => p.params);
    const first = configurations[0];
    const command = first
      ? renderCommand(spec.command, first, {
          env,
          platform: process.platform,
          argsJsonFile: PARAMS_FILE_PLACEHOLDER,
          ...(spec.program === undefined ? {} : { program: spec.program }),
        })
      : [];

    if (values.json) {
      out.json({ method: spec.method, seed, size: strategy.size, configurations, command });
      return 0;
    }
    const seedNote = seedOption !== undefined || spec.harrow.seed !== undefined ? '' : ' (the server picks its own seed unless harrow.seed is set)';
    out.line(`${file}: ${describeSweep(spec)}, seed ${seed}${seedNote}`);
    if (strategy.size !== null && spec.method === 'random') out.line(`${strategy.size} distinct configurations; none repeats until all have run`);
    if (spec.method === 'bayes') out.line('Until results arrive, the Bayesian strategy follows its quasi-random initial design.');
    if (configurations.length < count) out.line(`The grid has only ${configurations.length} run${configurations.length === 1 ? '' : 's'}.`);
    out.line('', `The first ${configurations.length === 1 ? 'configuration' : `${configurations.length} configurations`}, before any result:`);
    out.line(...configurationTable(spec.parameters, configurations, out.style));
    if (first) out.line('', 'Command of the first run:', `  ${command.map(shellQuote).join(' ')}`);
    printWarnings(out, spec.warnings);
    return 0;
  },
});

function parseSeed(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isSafeInteger(n)) throw new UsageError(`--seed must be a whole number (got '${text}')`);
  return n;
}

function cell(v: JsonValue | undefined): string {
  if (v === undefined) return '-';
  if (typeof v === 'number') return formatNumber(v, 6);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** One row per configuration, one column per leaf that varies; constants are listed once below. */
function configurationTable(
  parameters: Parameters<typeof flattenParameters>[0],
  configurations: Params[],
  style: Parameters<typeof table>[2],
): string[] {
  const leaves = flattenParameters(parameters);
  const varying = leaves.filter((l) => new Set(configurations.map((c) => JSON.stringify(getPath(c, l.path)))).size > 1 || l.spec.distribution !== 'constant');
  const fixed = leaves.filter((l) => !varying.includes(l));
  const rows = configurations.map((c, i) => [String(i + 1), ...varying.map((l) => cell(getPath(c, l.path)))]);
  const lines = table(['#', ...varying.map((l) => l.name)], rows, style);
  if (fixed.length > 0) {
    lines.push(`  constants: ${fixed.map((l) => `${l.name} = ${cell(getPath(configurations[0] ?? {}, l.path))}`).join(', ')}`);
  }
  lines.push('  (numbers rounded for display; --json gives exact values)');
  return lines;
}

/** POSIX-shell quoting, only where needed, so the line can be pasted into a terminal. */
function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
