import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, type SseMessage } from '../../../cli/client.js';

const STREAM =
  ': keepalive\n\n' +
  'event: sweep\ndata: {"id":"s1","name":"Größe ✓"}\n\n' +
  'event: run\r\ndata: {"n":1}\r\n\r\n' +
  'data: first\ndata: second\n\n' +
  'event:best\ndata:{"v":0.5}\rid: 7\r\r' +
  'retry: 2500\n' +
  'event: ignored\n\n' +
  'event: run\ndata: {"n":2}\n\n' +
  'event: run\ndata: {"incomplete":true}\n';

const EXPECTED: SseMessage[] = [
  { event: 'sweep', data: '{"id":"s1","name":"Größe ✓"}', id: undefined },
  { event: 'run', data: '{"n":1}', id: undefined },
  { event: 'message', data: 'first\nsecond', id: undefined },
  { event: 'best', data: '{"v":0.5}', id: '7' },
  { event: 'run', data: '{"n":2}', id: '7' },
];

function parseChunks(chunks: Uint8Array[]): { messages: SseMessage[]; retry: number | undefined } {
  const parser = new SseParser();
  const messages = chunks.flatMap((c) => parser.push(c));
  return { messages, retry: parser.retry };
}

test('whole stream: events, CRLF and CR line ends, multi-line data, comments, ids, retry', () => {
  const { messages, retry } = parseChunks([new TextEncoder().encode(STREAM)]);
  assert.deepEqual(messages, EXPECTED);
  assert.equal(retry, 2500);
});

test('split at every byte position: the same events (CRLF and UTF-8 sequences cut in half)', () => {
  const bytes = new TextEncoder().encode(STREAM);
  for (let cut = 1; cut < bytes.length; cut++) {
    const { messages } = parseChunks([bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.deepEqual(messages, EXPECTED, `split at byte ${cut}`);
  }
});

test('one byte at a time: the same events', () => {
  const bytes = new TextEncoder().encode(STREAM);
  const { messages, retry } = parseChunks(Array.from(bytes, (b) => Uint8Array.of(b)));
  assert.deepEqual(messages, EXPECTED);
  assert.equal(retry, 2500);
});

test('a leading byte-order mark is skipped; a CR then LF in the next chunk is one line end', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push('\uFEFFevent: run\r'), []);
  assert.deepEqual(parser.push('\ndata: x\r'), []);
  assert.deepEqual(parser.push('\n\r'), [{ event: 'run', data: 'x', id: undefined }]);
  assert.deepEqual(parser.push('\n'), [], 'the LF completing the CRLF is not a second blank line');
  assert.deepEqual(parser.push('data: y\n\n'), [{ event: 'message', data: 'y', id: undefined }]);
});

test('a field without a colon and an empty data line', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push('data\n\n'), [{ event: 'message', data: '', id: undefined }]);
  assert.deepEqual(parser.push('event: x\n\n'), [], 'an event without data is not dispatched');
  assert.deepEqual(parser.push('data: z\n\n'), [{ event: 'message', data: 'z', id: undefined }], 'and its type does not leak into the next');
});
