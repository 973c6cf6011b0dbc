import { open, type FileHandle } from 'node:fs/promises';
import { LineSplitter } from './line-splitter.js';

const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Follows the JSON-lines file a training program appends metrics to (`HARROW_METRICS_FILE`).
 * `poll()` reads what was appended since the last poll and hands over complete lines; a line
 * still being written waits for its newline. `close()` reads the rest and hands over a last line
 * without a newline too (the program has exited, so it will not be finished).
 *
 * Polling (not fs.watch) because it behaves the same on every file system, network mounts
 * included; the agent polls every ~100 ms while a run is active.
 */
export class MetricsFileTail {
  private handle: FileHandle | null = null;
  private position = 0;
  private readonly splitter = new LineSplitter();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly onLine: (line: string) => void,
    /** A read error (permissions changed, disk gone): reported, and the next poll tries again. */
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** Reads appended bytes; calls are serialized, so overlapping timers are harmless. */
  poll(): Promise<void> {
    this.chain = this.chain.then(() => this.readNew()).catch(this.onError);
    return this.chain;
  }

  /** Final read, then the unterminated last line (if any), then the file is closed. */
  close(): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      try {
        await this.readNew();
        for (const line of this.splitter.end()) this.onLine(line);
      } finally {
        this.closed = true;
        const handle = this.handle;
        this.handle = null;
        await handle?.close();
      }
    }).catch(this.onError);
    return this.chain;
  }

  private async readNew(): Promise<void> {
    if (this.closed) return;
    if (!this.handle) {
      try {
        this.handle = await open(this.path, 'r');
      } catch (err) {
        // The program may have deleted it; nothing to read then.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
    }
    const { size } = await this.handle.stat();
    // Truncated or replaced in place: start again from the beginning.
    if (size < this.position) this.position = 0;
    const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    while (this.position < size) {
      const { bytesRead } = await this.handle.read(buf, 0, buf.length, this.position);
      if (bytesRead === 0) break;
      this.position += bytesRead;
      for (const line of this.splitter.push(buf.subarray(0, bytesRead))) this.onLine(line);
    }
  }
}
