/**
 * A stand-in worker script for StrategyWorker's plumbing tests: it answers after `input.count`
 * milliseconds with its thread id and how many requests of that sweep it was already holding,
 * and dies (exit code 3) when asked for sweep `crash`.
 */
import { parentPort, threadId } from 'node:worker_threads';
import type { WorkerRequest, WorkerResponse } from '../../../controller/strategy-worker.js';

const port = parentPort!;
const holding = new Map<string, number>();

port.on('message', (msg: WorkerRequest) => {
  if (msg.type !== 'propose') return;
  if (msg.sweepId === 'crash') process.exit(3);
  const outstanding = holding.get(msg.sweepId) ?? 0;
  holding.set(msg.sweepId, outstanding + 1);
  setTimeout(() => {
    holding.set(msg.sweepId, (holding.get(msg.sweepId) ?? 1) - 1);
    const reply: WorkerResponse = { type: 'result', id: msg.id, value: [{ params: { thread: threadId, outstanding } }] };
    port.postMessage(reply);
  }, msg.input.count);
});
