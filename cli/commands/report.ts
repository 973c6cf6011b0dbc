/** `harrow report SWEEP [-o FILE]`: the sweep as one self-contained HTML file for reviewers without access to the server. */
import { writeFile } from 'node:fs/promises';
import { defineApiVerb, parseCliArgs, positionalArgs, SWEEP_HINT } from './api-verb.js';

const USAGE = `Usage: harrow report SWEEP [-o FILE] [--json]

Writes the sweep as one HTML file: the dashboard's views (best so far, history, parallel
coordinates, parameter importance, slices, learning curves, runs table and run pages) with the
data inside. It opens from disk in any browser, with no server and no network.

Options:
  -o, --output FILE   where to write it (default harrow-SWEEP.html; - for standard output)
  --json              print { "file", "bytes" } instead of a sentence

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN.`;

export const reportCommand = defineApiVerb({
  name: 'report',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { output: { type: 'string', short: 'o' }, json: { type: 'boolean' } });
    const [id] = positionalArgs(positionals, ['SWEEP'], SWEEP_HINT);
    const html = await ctx.client().report(id);
    const file = values.output ?? `harrow-${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.html`;
    if (file === '-') {
      process.stdout.write(html);
      return 0;
    }
    await writeFile(file, html);
    const bytes = Buffer.byteLength(html);
    if (values.json) ctx.out.json({ file, bytes });
    else ctx.out.line(`Wrote ${file} (${(bytes / 1024 / 1024).toFixed(1)} MB): open it in a browser; it needs no server and no network.`);
    return 0;
  },
});
