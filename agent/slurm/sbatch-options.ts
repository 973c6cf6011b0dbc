import { HarrowError } from '../../protocol/errors.js';

/**
 * Options Harrow sets itself on every job: the agent must know where the output goes (it tails it
 * for metrics), must read the job id (--parsable), and submits its own batch script.
 */
const RESERVED = ['--output', '-o', '--error', '-e', '--parsable', '--wrap', '--array', '-a', '--job-name', '-J', '--export', '--chdir', '-D', '--wait', '-W'];

/**
 * `--slurm '<sbatch options>'` as words, the way a POSIX shell splits them (single and double
 * quotes, backslash escapes; no expansion). Refuses the options Harrow sets itself, naming them.
 */
export function parseSbatchOptions(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word = (word ?? '') + c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word = (word ?? '') + text[++i]!;
      else word = (word ?? '') + c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote !== null) throw new HarrowError('INVALID_CONFIG', `--slurm: unclosed ${quote} quote in '${text}'`);
  if (word !== null) words.push(word);
  for (const w of words) {
    const name = w.startsWith('--') ? w.split('=')[0]! : w.slice(0, 2);
    if (w.startsWith('-') && RESERVED.includes(name)) {
      throw new HarrowError(
        'INVALID_CONFIG',
        `--slurm: ${name} is set by Harrow on every job (it tails the job's output for metrics and submits its own batch script); leave it out`,
      );
    }
  }
  return words;
}
