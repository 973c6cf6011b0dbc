/**
 * The costliest requests a controller takes, each as a raw HTTP request: sweep files at the size
 * limit in every costly shape, deep and wide JSON, huge strings where a name goes, many
 * parameters, long ids and query values. Sent by `npm run bench:event-loop` (which measures the
 * event-loop delay each causes, against the 100 ms target) and by the event-loop correctness test.
 */
import { MAX_SOURCE_CHARS } from '../strategies/spec/read-source.js';

export interface WorstInput {
  what: string;
  method: 'GET' | 'POST';
  path: string;
  contentType?: string;
  body?: string;
}

const HEAD = 'method: grid\nprogram: t.py\n';
const N = MAX_SOURCE_CHARS - 200;
const NAME_300K = 'a'.repeat(300 * 1024);

const yaml = (what: string, text: string): WorstInput => ({ what, method: 'POST', path: '/api/sweeps', contentType: 'text/yaml', body: text });
const json = (what: string, body: unknown): WorstInput => ({ what, method: 'POST', path: '/api/sweeps', contentType: 'application/json', body: JSON.stringify(body) });

export function worstInputs(): WorstInput[] {
  return [
    json('300 kB distribution name (JSON object)', { config: { method: 'random', program: 't.py', parameters: { x: { distribution: NAME_300K, min: 0, max: 1 } } } }),
    json('60 kB distribution name (JSON object, under the string bound)', { config: { method: 'random', program: 't.py', parameters: { x: { distribution: NAME_300K.slice(0, 60_000), min: 0, max: 1 } } } }),
    yaml('60 kB distribution name (YAML)', `${HEAD}parameters:\n  x: {distribution: ${NAME_300K.slice(0, 60_000)}, min: 0.0, max: 1.0}\n`),
    yaml('60 kB parameter name (YAML)', `${HEAD}parameters:\n  ${NAME_300K.slice(0, 60_000)}: {value: 1}\n`),
    yaml('flow list of 130k integers', `${HEAD}parameters:\n  x: {values: [${'1,'.repeat(N / 2 - 10)}1]}\n`),
    yaml('15k parameters', `${HEAD}parameters:\n${Array.from({ length: Math.floor(N / 17) }, (_, i) => `  p${i}: {value: 1}\n`).join('')}`),
    yaml('mapping of 16k keys', `${HEAD}parameters:\n  x:\n    value:\n${Array.from({ length: Math.floor(N / 16) }, (_, i) => `      k${i}: 1\n`).join('')}`),
    yaml('50k aliases', `${HEAD}a: &a [1, 2, 3]\nparameters:\n  x: {values: [${'*a,'.repeat(N / 4 - 100)}1]}\n`),
    yaml('flow nesting 100k deep', `${HEAD}parameters:\n  x: {value: ${'['.repeat(N / 2 - 100)}${']'.repeat(N / 2 - 100)}}\n`),
    yaml('one 250 kB string', `${HEAD}parameters:\n  x: {values: ["${'y'.repeat(N - 100)}"]}\n`),
    yaml('900 parameters, 3 errors each', `${HEAD}parameters:\n${Array.from({ length: 900 }, (_, i) => `  p${i}: {valeus: [1], mni: 2, distribution: unifrom}\n`).join('')}`),
    // Written by hand: JSON.stringify itself overflows the stack on it.
    { what: 'JSON nested 200k deep', method: 'POST', path: '/api/sweeps', contentType: 'application/json', body: `{"config": ${'['.repeat(200_000)}${']'.repeat(200_000)}}` },
    { what: 'JSON nested 200k deep, in an object config', method: 'POST', path: '/api/sweeps', contentType: 'application/json', body: `{"config": {"method": ${'['.repeat(200_000)}${']'.repeat(200_000)}}}` },
    json('JSON object of 100k keys', { config: { method: 'grid', program: 't.py', parameters: { x: { value: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])) } } } }),
    { what: '5000-character id', method: 'GET', path: `/api/sweeps/${'x'.repeat(5000)}` },
    { what: '10 kB query value', method: 'GET', path: `/api/sweeps?state=${'running,'.repeat(1200)}` },
  ];
}

/** Sends one input; resolves with the status once the answer is read. */
export async function sendInput(base: string, input: WorstInput, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${base}${input.path}`, {
    method: input.method,
    headers: { ...(input.contentType ? { 'content-type': input.contentType } : {}), ...headers },
    body: input.body,
  });
  await res.arrayBuffer();
  return res.status;
}
