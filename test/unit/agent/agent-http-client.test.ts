import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentHttpClient } from '../../../agent/agent-http-client.js';
import { freePort } from '../../../cli/net.js';
import { WIRE_VERSION } from '../../../protocol/wire.js';

void test('an HTTP agent given several replicas moves to the next when one cannot be reached', async () => {
  const calls: string[] = [];
  const live = createServer((req, res) => {
    calls.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((resolve) => live.listen(0, '127.0.0.1', resolve));
  try {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const alive = `http://127.0.0.1:${(live.address() as AddressInfo).port}`;
    const client = new AgentHttpClient([dead, alive], undefined, 'sw1', () => undefined);
    assert.equal(client.server, dead);
    await assert.rejects(client.leave('a1'), /cannot reach the Harrow server at http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(client.server, alive, 'the next call goes to the next replica');
    await client.leave('a1');
    assert.deepEqual(calls, ['/api/agent/v1/sweeps/sw1/leave']);
    assert.equal(client.server, alive, 'it stays with a replica that answers');
    // A report is retried until delivered: through the live replica at once.
    await client.send({ v: WIRE_VERSION, type: 'heartbeat', sweepId: 'sw1', agentId: 'a1', runs: [], at: 1 });
    assert.equal(calls.length, 2);

    const single = new AgentHttpClient(dead, undefined, 'sw1', () => undefined);
    await assert.rejects(single.leave('a1'));
    assert.equal(single.server, dead);
  } finally {
    await new Promise((resolve) => live.close(resolve));
  }
});
