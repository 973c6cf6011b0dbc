import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyDatabaseError } from '../../../db/database-errors.js';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyDatabaseError', () => {
  it('calls a server that is away, restarting or full unavailable (pg and PGlite forms)', () => {
    for (const err of [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      withCode('getaddrinfo ENOTFOUND db', 'ENOTFOUND'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('connection failure', '08006'),
      withCode('sorry, too many clients already', '53300'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('PGlite is closed'),
      Object.assign(new Error('unreachable'), { name: 'RuntimeError' }),
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''),
    ]) {
      assert.equal(classifyDatabaseError(err), 'unavailable', err.message);
    }
  });

  it('calls values Postgres cannot store bad values, and leaves everything else alone', () => {
    assert.equal(classifyDatabaseError(withCode('invalid byte sequence for encoding "UTF8": 0x00', '22021')), 'bad-value');
    assert.equal(classifyDatabaseError(withCode('unsupported Unicode escape sequence', '22P05')), 'bad-value');
    assert.equal(classifyDatabaseError(withCode('value "2147483648" is out of range for type integer', '22003')), 'bad-value');
    for (const err of [withCode('duplicate key value violates unique constraint', '23505'), withCode('syntax error', '42601'), new Error('boom'), 'a string', null]) {
      assert.equal(classifyDatabaseError(err), undefined);
    }
  });
});
