import { EndAnswerSchema, type RedisKeys } from '../protocol/wire.js';
import type { ClaimAnswers } from './claim-answers.js';
import type { Reporter } from './reporter.js';
import type { RunTransport } from './run-transport.js';

/** The Redis agent's transport: reports into the stream, answers on each claim's and end's channel. */
export function redisTransport(reporter: Reporter, answers: ClaimAnswers, keys: RedisKeys): RunTransport {
  return {
    send: (report) => reporter.send(report),
    listen: (runId, token) => answers.listen(keys.claimAnswer(runId, token)),
    listenEnd: (runId, token) => answers.listen(keys.endAnswer(runId, token), EndAnswerSchema),
  };
}
