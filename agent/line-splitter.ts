import { StringDecoder } from 'node:string_decoder';

/** Longest line kept whole; a program printing megabytes without a newline is split here. */
export const MAX_LINE_CHARS = 64 * 1024;

/**
 * Splits a byte stream into lines: UTF-8 characters split across chunks are reassembled, `\r\n`
 * ends a line like `\n`, and a partial last line waits for its newline (or for `end()`).
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly maxChars = MAX_LINE_CHARS) {}

  /** The complete lines the chunk finished, without their line endings. */
  push(chunk: Buffer | string): string[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (let nl = this.pending.indexOf('\n'); nl !== -1; nl = this.pending.indexOf('\n', start)) {
      lines.push(stripCr(this.pending.slice(start, nl)));
      start = nl + 1;
    }
    this.pending = this.pending.slice(start);
    while (this.pending.length > this.maxChars) {
      lines.push(this.pending.slice(0, this.maxChars));
      this.pending = this.pending.slice(this.maxChars);
    }
    return lines;
  }

  /** The last line when the stream ended without a newline (empty array otherwise). */
  end(): string[] {
    this.pending += this.decoder.end();
    const rest = this.pending;
    this.pending = '';
    return rest.length > 0 ? [stripCr(rest)] : [];
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
