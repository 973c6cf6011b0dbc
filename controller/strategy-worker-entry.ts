/**
 * The worker-thread side of `StrategyWorker`: one strategy instance per sweep (rebuilt when the
 * spec or seed changes), so the GP keeps its warm start; each request answered in order.
 */
import { parentPort } from 'node:worker_threads';
import { createStrategy, recommend } from '../strategies/index.js';
import { parameterImportance } from '../strategies/analysis/parameter-importance.js';
import { ModelStopRule } from '../strategies/early-terminate/index.js';
import type { Strategy } from '../strategies/types.js';
import type { SerializedError, WorkerRequest, WorkerResponse } from './strategy-worker.js';

if (parentPort === null) throw new Error('strategy-worker-entry.js runs only as a worker thread (see StrategyWorker)');
const port = parentPort;

const instances = new Map<string, { key: string; strategy: Strategy }>();
/** `harrow.early_terminate: {type: model}`: one rule per sweep (its curve model's fit is kept), rebuilt when the spec changes. */
const stopRules = new Map<string, { key: string; rule: ModelStopRule }>();

function serialize(err: unknown): SerializedError {
  if (err instanceof Error) {
    const issues = (err as { issues?: unknown }).issues;
    return {
      name: err.name,
      message: err.message,
      ...(Array.isArray(issues) ? { issues: issues as SerializedError['issues'] } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

port.on('message', (msg: WorkerRequest) => {
  switch (msg.type) {
    case 'forget':
      instances.delete(msg.sweepId);
      stopRules.delete(msg.sweepId);
      return;
    case 'propose': {
      let reply: WorkerResponse;
      try {
        const key = JSON.stringify([msg.seed, msg.spec]);
        let inst = instances.get(msg.sweepId);
        if (!inst || inst.key !== key) {
          inst = { key, strategy: createStrategy(msg.spec, { seed: msg.seed }) };
          instances.set(msg.sweepId, inst);
        }
        reply = { type: 'result', id: msg.id, value: inst.strategy.propose(msg.input) };
      } catch (err) {
        reply = { type: 'error', id: msg.id, error: serialize(err) };
      }
      port.postMessage(reply);
      return;
    }
    case 'importance': {
      let reply: WorkerResponse;
      try {
        reply = { type: 'result', id: msg.id, value: parameterImportance(msg.spec, msg.runs, { seed: msg.seed }) };
      } catch (err) {
        reply = { type: 'error', id: msg.id, error: serialize(err) };
      }
      port.postMessage(reply);
      return;
    }
    case 'recommend': {
      let reply: WorkerResponse;
      try {
        reply = { type: 'result', id: msg.id, value: recommend(msg.spec, msg.observations) };
      } catch (err) {
        reply = { type: 'error', id: msg.id, error: serialize(err) };
      }
      port.postMessage(reply);
      return;
    }
    case 'modelStop': {
      let reply: WorkerResponse;
      try {
        const key = JSON.stringify(msg.spec);
        let inst = stopRules.get(msg.sweepId);
        if (!inst || inst.key !== key) {
          inst = { key, rule: ModelStopRule.forSweep(msg.spec) };
          stopRules.set(msg.sweepId, inst);
        }
        reply = { type: 'result', id: msg.id, value: inst.rule.judge(msg.observations, msg.running) };
      } catch (err) {
        reply = { type: 'error', id: msg.id, error: serialize(err) };
      }
      port.postMessage(reply);
      return;
    }
    default: {
      const never: never = msg;
      throw new Error(`unknown strategy worker request ${JSON.stringify(never)}`);
    }
  }
});
