/**
 * The benchmarks' `--bayes` flag: `deterministic=true,initial_design=8` → a `harrow.bayes` block.
 * Values read as booleans or numbers where they look like one, else as text; `check` refuses a
 * block the sweep parser would (the caller builds a sweep with it), once, before any work starts.
 */
export function parseBayesFlag(text: string, check: (block: Record<string, unknown>) => void): Record<string, unknown> {
  const block: Record<string, unknown> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--bayes needs key=value pairs such as trust_region=false (got ${JSON.stringify(pair)})`);
    const raw = pair.slice(eq + 1);
    block[pair.slice(0, eq)] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  check(block);
  return block;
}
