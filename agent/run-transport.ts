import type { AgentReport, EndAnswer } from '../protocol/wire.js';
import type { AnswerListener, ClaimListener } from './claim-answers.js';

/**
 * How one attempt talks to the controller, whatever carries it: Redis (the reports stream and the
 * answer channels, see redis-transport.ts) or HTTP (the controller writes the same reports into the
 * same stream on the agent's behalf, see http-agent.ts). RunAttempt knows only this, so fencing by
 * token, exactly-once by (run, attempt, seq) and the recovery of lost points are the same code on
 * both paths.
 */
export interface RunTransport {
  /** Delivers one report, in order with the others of this agent. Rejects when it could not. */
  send(report: AgentReport): Promise<unknown>;
  /** Opens the way the controller's answer to the claim of (runId, token) arrives; before the claim is sent. */
  listen(runId: string, token: string): Promise<ClaimListener>;
  /** Opens the way the controller's answers to the end report of (runId, token) arrive; before it is sent. */
  listenEnd(runId: string, token: string): Promise<AnswerListener<EndAnswer>>;
}
