/** `harrow create FILE`: sends a sweep file to the server and says how to start agents on it. */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { HarrowError } from '../../protocol/errors.js';
import { UsageError } from '../command.js';
import { paint } from '../format.js';
import { printImportOutcome } from './import-outcome.js';
import { defineApiVerb, parseCliArgs, positionalArgs } from './api-verb.js';

const USAGE = `Usage: harrow create FILE [--name NAME] [--json]

Creates a sweep on the server from a W&B-style sweep file (YAML or JSON) and prints its id and
the command to run on each GPU box. The sweep starts at once; agents pick up its runs.
With harrow: {warm_start: {file: results.csv}}, the file (relative to the sweep file) is sent along.

Options:
  --name NAME   name the sweep (overrides the file's \`name\`)
  --json        print the server's response (the sweep) as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN.`;

export const createCommand = defineApiVerb({
  name: 'create',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { name: { type: 'string' }, json: { type: 'boolean' } });
    const [file] = positionalArgs(positionals, ['FILE'], 'give the path of a sweep file such as sweep.yaml');
    if (values.name !== undefined && (values.name.trim() === '' || values.name.length > 200)) {
      throw new UsageError('--name must be 1 to 200 characters');
    }
    const text = await readSweepFile(file);
    const warmStartFile = await readWarmStartFile(file, text);
    let sweep;
    try {
      sweep = await ctx.client().createSweep(text, values.name, warmStartFile);
    } catch (err) {
      if (err instanceof HarrowError && err.code === 'INVALID_SWEEP_CONFIG') {
        throw new HarrowError(err.code, `${file}: ${err.message}`, { details: err.details, cause: err });
      }
      throw err;
    }
    if (values.json) {
      ctx.out.json(sweep);
      return 0;
    }
    const { out } = ctx;
    const label = sweep.name ? ` '${sweep.name}'` : '';
    const metric = sweep.metric ? `, ${sweep.metric.goal} ${sweep.metric.name}` : '';
    const size = sweep.expectedRuns !== null ? `, ${sweep.expectedRuns} runs` : sweep.runCap !== null ? `, up to ${sweep.runCap} runs` : '';
    out.line(`Created sweep ${paint(out.style, 'bold', sweep.id)}${label} (${sweep.method}${metric}${size}).`);
    for (const w of sweep.warnings) out.line(paint(out.style, 'yellow', `warning: ${w.path ? `${w.path}: ` : ''}${w.message}`));
    if (sweep.warmStart) printImportOutcome(out, sweep.warmStart);
    const agent = sweep.agentCommand;
    out.line(
      '',
      'Start an agent on each machine that should run it:',
      `  ${agent}`,
      ...(agent.includes('--gpus') ? [] : [`  ${agent} --gpus 0,1    # on a GPU box: one run per listed GPU`]),
      '',
      'Follow it:',
      `  harrow watch ${sweep.id}`,
    );
    return 0;
  },
});

async function readSweepFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new HarrowError('INVALID_REQUEST', `cannot read sweep file ${file}: ${why}`, { cause: err });
  }
}

/** The file `harrow.warm_start.file` names, read next to the sweep file; undefined when there is none. */
async function readWarmStartFile(sweepFile: string, text: string): Promise<{ name: string; content: string } | undefined> {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch {
    return undefined; // the server reports the syntax error with its position
  }
  const harrow = (data as { harrow?: { warm_start?: { file?: unknown } } } | null)?.harrow;
  const name = harrow?.warm_start?.file;
  if (typeof name !== 'string' || name === '') return undefined;
  const path = resolve(dirname(sweepFile), name);
  try {
    return { name: basename(name), content: await readFile(path, 'utf8') };
  } catch (err) {
    throw new HarrowError('INVALID_REQUEST', `${sweepFile}: harrow.warm_start.file: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}
