/**
 * Graceful shutdown of `harrow server` with dashboard streams open: SIGTERM must end the
 * server-sent-event streams and exit within 5 s, instead of waiting for every tab to close.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { needServices } from '../helpers/services.js';
import { waitForHttp } from '../helpers/processes.js';
import { controller, createSweep, setUp, tearDown } from '../helpers/harness.js';
import { SseReader } from '../integration/controller/controller-harness.js';
import { INLINE_MAX_CHARS } from '../../controller/sweep-config-reader.js';

const opts = await needServices();

const SWEEP = `
name: shutdown
method: random
metric: {name: loss, goal: minimize}
run_cap: 2
program: train.py
parameters:
  x: {min: 0.0, max: 1.0}
`;

describe('harrow server shutdown', { ...opts, timeout: 60_000 }, () => {
  test('SIGTERM with two event streams open exits 0 within 5 s and ends the streams', async () => {
    const env = await setUp('e2e_shutdown');
    const streams: SseReader[] = [];
    try {
      const server = controller(env);
      await waitForHttp(env.url);
      const sweep = await createSweep(env, SWEEP);
      for (let i = 0; i < 2; i++) {
        const s = await SseReader.open(`${env.url}/api/sweeps/${sweep.id}/events`);
        streams.push(s);
        await s.next('the sweep on connect', (e) => e.event === 'sweep');
      }
      const t0 = Date.now();
      server.child.kill('SIGTERM');
      const code = await Promise.race([server.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
      assert.notEqual(code, 'hung', `harrow server still running 5 s after SIGTERM with event streams open\n${server.output().slice(-2000)}`);
      assert.equal(code, 0, server.output().slice(-2000));
      const tookMs = Date.now() - t0;
      assert.ok(tookMs < 5000, `exit took ${tookMs} ms`);
      // The clients saw their stream end (an EventSource then reconnects), not a hang or an error.
      await Promise.all(streams.map((s) => s.ended()));
    } finally {
      await Promise.all(streams.map((s) => s.close()));
      await tearDown(env);
    }
  });

  test('SIGTERM after reading a sweep file too big to read inline (its worker thread) exits 0 within 5 s', async () => {
    const env = await setUp('e2e_shutdown_reader');
    try {
      const server = controller(env);
      await waitForHttp(env.url);
      // Past INLINE_MAX_CHARS: read by the sweep file reader's worker thread.
      const big = `${SWEEP}  # ${'padding '.repeat(2000)}\n`;
      assert.ok(big.length > INLINE_MAX_CHARS);
      await createSweep(env, big);
      const t0 = Date.now();
      server.child.kill('SIGTERM');
      const code = await Promise.race([server.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
      // Before the fix the worker's message port held the process until the 10 s backstop (exit 1).
      assert.notEqual(code, 'hung', `harrow server still running 5 s after SIGTERM\n${server.output().slice(-2000)}`);
      assert.equal(code, 0, server.output().slice(-2000));
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      await tearDown(env);
    }
  });
});
