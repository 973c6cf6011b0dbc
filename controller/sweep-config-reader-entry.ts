/** The worker-thread side of `SweepConfigReader`: validates one sweep file per message. */
import { parentPort } from 'node:worker_threads';
import { validateSweepConfig } from '../strategies/index.js';
import type { ReaderRequest, ReaderResponse } from './sweep-config-reader.js';

if (parentPort === null) throw new Error('sweep-config-reader-entry.js runs only as a worker thread (see SweepConfigReader)');
const port = parentPort;

port.on('message', (msg: ReaderRequest) => {
  const input = 'text' in msg.input ? msg.input.text : (JSON.parse(msg.input.json) as unknown);
  port.postMessage({ id: msg.id, result: validateSweepConfig(input) } satisfies ReaderResponse);
});
