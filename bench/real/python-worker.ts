/**
 * A long-lived `python3 bench/real/evaluate.py` process spoken to in JSON lines (one request, one
 * answer, matched by id). One per benchmark arm: importing scikit-learn costs about a second, an
 * evaluation a fraction of one, so a process per evaluation would measure the import.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ParameterSpecInput } from './spaces.js';

/** bench/real/ in the source tree (the Python files are not compiled into dist/). */
export const PYTHON_DIR = fileURLToPath(new URL('../../../bench/real/', import.meta.url));
/**
 * Debian's interpreter, where python3-sklearn and python3-optuna install, unless HARROW_PYTHON
 * says otherwise: a `python3` earlier on PATH (pyenv, a virtualenv) may not see those packages.
 */
export const PYTHON = process.env.HARROW_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

export type Spaces = Record<string, Record<string, ParameterSpecInput>>;

interface Answer {
  id: number | null;
  error?: number | null;
  seconds?: number;
  message?: string;
  spaces?: Spaces;
}

export class PythonWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stderr = '';
  private exited: Error | null = null;

  constructor(script = 'evaluate.py') {
    this.child = spawn(PYTHON, [PYTHON_DIR + script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', PYTHONUNBUFFERED: '1' },
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (s: string) => {
      // Keep the tail only: enough to explain a crash.
      this.stderr = (this.stderr + s).slice(-4000);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let answer: Answer;
      try {
        answer = JSON.parse(line) as Answer;
      } catch {
        this.failAll(new Error(`evaluation worker wrote a line that is not JSON: ${line.slice(0, 200)}`));
        return;
      }
      const w = answer.id === null ? undefined : this.waiting.get(answer.id);
      if (w === undefined) {
        this.failAll(new Error(`evaluation worker answered an unknown request: ${line.slice(0, 200)}`));
        return;
      }
      this.waiting.delete(answer.id!);
      w.resolve(answer);
    });
    this.child.on('error', (err) => this.failAll(new Error(`cannot start ${PYTHON}: ${err.message}`)));
    this.child.on('exit', (code, signal) => {
      this.failAll(new Error(`evaluation worker exited (${signal ?? `code ${code}`})${this.stderr ? `:\n${this.stderr}` : ''}`));
    });
  }

  private failAll(err: Error): void {
    this.exited ??= err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  private request(body: Record<string, unknown>): Promise<Answer> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.stdin.write(JSON.stringify({ id, ...body }) + '\n');
    });
  }

  async spaces(): Promise<Spaces> {
    const a = await this.request({ op: 'spaces' });
    if (a.spaces === undefined) throw new Error(`spaces request failed: ${a.message ?? JSON.stringify(a)}`);
    return a.spaces;
  }

  /**
   * Cross-validated error of one configuration under a CV protocol of evaluate.py (CV_PROTOCOLS;
   * its default when left out); throws with Python's message on a bad request.
   */
  async evaluate(model: string, params: Record<string, unknown>, cv?: string): Promise<{ error: number; seconds: number }> {
    const a = await this.request({ op: 'eval', model, params, ...(cv === undefined ? {} : { cv }) });
    if (typeof a.error !== 'number') throw new Error(`evaluation of ${model} ${JSON.stringify(params)} failed: ${a.message ?? JSON.stringify(a)}`);
    return { error: a.error, seconds: a.seconds ?? 0 };
  }

  /** Closes stdin (the worker's loop ends) and waits for the exit. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}

/** Whether `python3 -c 'import sklearn, optuna'` works: what the test and the bench need. */
export function pythonHasSklearn(): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, ['-c', 'import sklearn, optuna; print(sklearn.__version__, optuna.__version__)'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', (err) => resolve({ ok: false, detail: err.message }));
    child.on('exit', (code) => resolve({ ok: code === 0, detail: out.trim().split('\n').at(-1) ?? '' }));
  });
}
