/** The decisions of `controller/run-lifecycle.ts` that need no database: retry and pause. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pauseReason, retryDecision } from '../../../controller/run-lifecycle.js';
import type { OutcomeRow } from '../../../db/runs.js';
import type { SweepSpec } from '../../../strategies/types.js';

const spec = (harrow: Partial<SweepSpec['harrow']> = {}): Pick<SweepSpec, 'harrow'> => ({ harrow: { retry: { maxAttempts: 3, on: ['crashed'] }, ...harrow } });
const rows = (...states: OutcomeRow['state'][]): OutcomeRow[] => states.map((state, i) => ({ number: i + 1, state, reason: `${state} ${i + 1}` }));

describe('retryDecision', () => {
  it('retries what the policy names while attempts are left and the sweep lives', () => {
    assert.deepEqual(retryDecision(spec(), 'running', { state: 'crashed', attempt: 1 }, false), { retry: true, reason: 'retry after crashed: attempt 2 of 3' });
    assert.equal(retryDecision(spec(), 'paused', { state: 'crashed', attempt: 2 }, false).retry, true);
    assert.equal(retryDecision(spec(), 'running', { state: 'crashed', attempt: 3 }, false).retry, false, 'the last attempt');
    assert.equal(retryDecision(spec(), 'finished', { state: 'crashed', attempt: 1 }, false).retry, false, 'an ended sweep');
    assert.equal(retryDecision(spec(), 'running', { state: 'failed', attempt: 1 }, false).retry, false, 'failed is a user fault by default');
    const onFailed = spec({ retry: { maxAttempts: 2, on: ['failed'] } });
    assert.equal(retryDecision(onFailed, 'running', { state: 'failed', attempt: 1 }, false).retry, true);
    assert.equal(retryDecision(onFailed, 'running', { state: 'failed', attempt: 1 }, true).retry, false, 'a fail_on match is never retried');
    assert.equal(retryDecision(onFailed, 'running', { state: 'stopped', attempt: 1 }, false).retry, false);
  });
});

describe('pauseReason', () => {
  it('pauses when the first N all failed, by default N = 3', () => {
    const first = rows('failed', 'crashed', 'failed');
    const why = pauseReason(spec(), 'sw', { first, last: [...first].reverse() });
    assert.match(why ?? '', /^paused: the first 3 runs all failed or crashed \(last: run 3 failed: failed 3\); .*harrow resume sw/);
    assert.equal(pauseReason(spec(), 'sw', { first: first.slice(0, 2), last: first.slice(0, 2).reverse() }), null, 'two failures are not three');
    const mixed = rows('failed', 'finished', 'failed');
    assert.equal(pauseReason(spec(), 'sw', { first: mixed, last: [...mixed].reverse() }), null);
  });

  it('pauses after K failures in a row, by default K = 5, and can be turned off', () => {
    const last = rows('failed', 'failed', 'crashed', 'failed', 'failed');
    const first = rows('finished', 'failed', 'failed');
    assert.match(pauseReason(spec(), 'sw', { first, last }) ?? '', /5 runs in a row failed or crashed/);
    assert.equal(pauseReason(spec(), 'sw', { first, last: last.slice(0, 4) }), null);
    const off = spec({ pauseOnFailures: { first: null, consecutive: null } });
    assert.equal(pauseReason(off, 'sw', { first: rows('failed', 'failed', 'failed'), last }), null);
    const two = spec({ pauseOnFailures: { first: null, consecutive: 2 } });
    assert.match(pauseReason(two, 'sw', { first, last: last.slice(0, 2) }) ?? '', /2 runs in a row/);
  });
});
