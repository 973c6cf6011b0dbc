/** Responses shaped per `protocol/api.ts` (each test also parses them with the schemas). */
import type { BestResponse, RunSummary, SweepDetail } from '../../../protocol/api.js';

export function sweepDetail(over: Partial<SweepDetail> = {}): SweepDetail {
  return {
    id: 'k3x9q2ab',
    name: 'mnist-lr',
    state: 'running',
    stateReason: null,
    method: 'bayes',
    metric: { name: 'val_loss', goal: 'minimize' },
    runCap: 50,
    expectedRuns: null,
    counts: { queued: 1, running: 2, finished: 5, failed: 1, crashed: 0, stopped: 2, canceled: 0, preempted: 0, total: 11 },
    best: { runId: 'k3x9q2ab-4', number: 4, params: { lr: 0.00031, batch: 64, optimizer: 'adam' }, value: 0.123456789, step: 30 },
    health: 'degraded',
    createdAt: '2025-01-01T10:00:00.000Z',
    endedAt: null,
    spec: { method: 'bayes' },
    config: 'method: bayes\n',
    seed: 7,
    agentCommand: 'harrow agent k3x9q2ab',
    warnings: [],
    ...over,
  };
}

export function runSummary(over: Partial<RunSummary> = {}): RunSummary {
  const number = over.number ?? 1;
  return {
    id: `k3x9q2ab-${number}`,
    sweepId: 'k3x9q2ab',
    number,
    state: 'finished',
    attempt: 1,
    params: { lr: 0.001, batch: 32 },
    value: 0.5,
    valueStep: 10,
    latest: 0.5,
    summary: {},
    reason: null,
    stopInfo: null,
    warnings: [],
    exitCode: 0,
    agentId: 'agent-1',
    host: 'gpu-box-1',
    gpu: '0',
    createdAt: '2025-01-01T10:00:00.000Z',
    startedAt: '2025-01-01T10:00:00.000Z',
    endedAt: '2025-01-01T10:01:05.000Z',
    ...over,
  };
}

export function bestResponse(over: Partial<BestResponse> = {}): BestResponse {
  return {
    best: { runId: 'k3x9q2ab-4', number: 4, params: { lr: 0.00031, batch: 64 }, value: 0.12, step: 30 },
    counted: 5,
    curve: [
      { index: 1, runId: 'k3x9q2ab-1', number: 1, value: 0.9, at: '2025-01-01T10:01:00.000Z' },
      { index: 2, runId: 'k3x9q2ab-2', number: 2, value: 0.5, at: '2025-01-01T10:02:00.000Z' },
      { index: 4, runId: 'k3x9q2ab-4', number: 4, value: 0.12, at: '2025-01-01T10:04:00.000Z' },
    ],
    ...over,
  };
}

/** 2025-01-01T10:05:00Z: five minutes after the fixtures' sweep was created. */
export const NOW = Date.parse('2025-01-01T10:05:00.000Z');
