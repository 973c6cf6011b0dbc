import type { Redis } from 'ioredis';
import { HarrowError } from '../protocol/errors.js';
import { AgentReportSchema, REPORT_FIELD, type AgentReport } from '../protocol/wire.js';

/**
 * Sends reports to the controller: one entry of the reports stream each, checked against the
 * wire contract first so a malformed report is our bug, found here, not the controller's problem.
 * Order is kept: commands on one ioredis connection reach Redis in the order they were issued,
 * and while Redis is unreachable they wait in ioredis' offline queue (maxRetriesPerRequest: null).
 */
export class Reporter {
  constructor(
    private readonly redis: Redis,
    private readonly stream: string,
  ) {}

  async send(report: AgentReport): Promise<string> {
    const checked = AgentReportSchema.safeParse(report);
    if (!checked.success) {
      throw new HarrowError('INTERNAL', `agent built an invalid ${report.type} report: ${checked.error.message}`, {
        cause: checked.error,
      });
    }
    const id = await this.redis.xadd(this.stream, '*', REPORT_FIELD, JSON.stringify(checked.data));
    return id ?? '';
  }
}
