// A process's output as the library keeps it: every byte of stdout and stderr, the lines of both in
// the order they came (a partial line waits for its end, per stream), and waiters that follow them.
import type { Writable } from 'node:stream';

export type StreamName = 'stdout' | 'stderr';

export interface LogLine {
  stream: StreamName;
  line: string;
}

export class Output {
  private readonly chunks: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
  private readonly partial: Record<StreamName, string> = { stdout: '', stderr: '' };
  private readonly lines: LogLine[] = [];
  private wake: (() => void)[] = [];
  private open = 2;
  /** Resolves once both streams have ended (every writer in the container closed them). */
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;

  constructor(private readonly copies: Partial<Record<StreamName, Writable>> = {}) {
    this.ended = new Promise((r) => { this.resolveEnded = r; });
  }

  push(stream: StreamName, chunk: Buffer): void {
    this.chunks[stream].push(chunk);
    this.copies[stream]?.write(chunk);
    const text = this.partial[stream] + chunk.toString('utf8');
    const parts = text.split('\n');
    this.partial[stream] = parts.pop()!;
    for (const line of parts) this.lines.push({ stream, line });
    if (parts.length) this.notify();
  }

  end(stream: StreamName): void {
    if (this.partial[stream]) this.lines.push({ stream, line: this.partial[stream] });
    this.partial[stream] = '';
    if (--this.open === 0) this.resolveEnded();
    this.notify();
  }

  text(stream: StreamName): string {
    return Buffer.concat(this.chunks[stream]).toString('utf8');
  }

  get isEnded(): boolean {
    return this.open === 0;
  }

  /** Every line from the first, following new ones until both streams end (or `stop` aborts). */
  async *follow(stop?: AbortSignal): AsyncGenerator<LogLine> {
    let i = 0;
    for (;;) {
      while (i < this.lines.length) yield this.lines[i++]!;
      if (this.isEnded || stop?.aborted) return;
      await new Promise<void>((resolve) => {
        const done = (): void => { stop?.removeEventListener('abort', done); resolve(); };
        this.wake.push(done);
        stop?.addEventListener('abort', done, { once: true });
      });
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = [];
    for (const f of w) f();
  }
}
