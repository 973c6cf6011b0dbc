import { OUTPUT_TAIL_BYTES } from '../protocol/wire.js';

/** How far into a cut tail a line start is looked for. */
const LINE_SEARCH_BYTES = 1024;
const NEWLINE = 0x0a;

/**
 * The last `maxBytes` bytes of a run's combined stdout and stderr, in arrival order, kept with
 * the run so a failure can be read without the agent's box. Memory stays bounded whatever the
 * program prints.
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** The byte just before the kept ones, once something was dropped. */
  private beforeKept: number | null = null;

  constructor(private readonly maxBytes = OUTPUT_TAIL_BYTES) {}

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (chunk.length >= this.maxBytes) {
      const cut = chunk.length - this.maxBytes;
      if (cut > 0) this.beforeKept = chunk[cut - 1]!;
      else if (this.bytes > 0) this.beforeKept = this.chunks[this.chunks.length - 1]!.at(-1)!;
      this.chunks = [chunk.subarray(cut)];
      this.bytes = this.maxBytes;
      return;
    }
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    // Drop whole chunks while what remains still covers maxBytes; text() trims the rest.
    while (this.chunks.length > 1 && this.bytes - this.chunks[0]!.length >= this.maxBytes) {
      const dropped = this.chunks.shift()!;
      this.bytes -= dropped.length;
      this.beforeKept = dropped.at(-1)!;
    }
  }

  /**
   * The tail as text, at most `maxBytes` bytes of UTF-8. When older output was cut mid-line, the
   * text starts at the next line (when one starts within the first KiB), and never in the middle
   * of a character.
   */
  text(): string {
    let buf = Buffer.concat(this.chunks, this.bytes);
    let before = this.beforeKept;
    if (buf.length > this.maxBytes) {
      before = buf[buf.length - this.maxBytes - 1]!;
      buf = buf.subarray(buf.length - this.maxBytes);
    }
    if (before !== null && before !== NEWLINE) {
      const nl = buf.subarray(0, LINE_SEARCH_BYTES).indexOf(NEWLINE);
      if (nl !== -1 && nl < buf.length - 1) buf = buf.subarray(nl + 1);
      else {
        let i = 0;
        // UTF-8 continuation bytes are 10xxxxxx: skip a character cut in half.
        while (i < buf.length && (buf[i]! & 0xc0) === 0x80) i++;
        buf = buf.subarray(i);
      }
    }
    return buf.toString('utf8');
  }
}
