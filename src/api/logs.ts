// Container.logs(): what a detached container wrote, read from the pipes tsrun holds (the caller's
// fds never reach the container). An async iterable of lines that follows the container until its
// output ends, and the whole text so far.
import { hold } from './exit-watch.js';
import type { LogLine, Output, StreamName } from './output.js';

export interface LogsOptions {
  /** Which stream's lines (default both, in arrival order). */
  stream?: StreamName | 'all';
  /** false: only the lines already there, then end. Default true: follow until the output ends. */
  follow?: boolean;
  /** Stop following when this fires. */
  signal?: AbortSignal;
}

export interface Logs extends AsyncIterable<string> {
  /** The whole text so far (stdout then stderr for 'all'). */
  text(): string;
  /** Each line with its stream. */
  entries(): AsyncIterable<LogLine>;
}

export function logsOf(output: Output, opts: LogsOptions = {}): Logs {
  const stream = opts.stream ?? 'all';
  const wanted = (l: LogLine): boolean => stream === 'all' || l.stream === stream;
  const stop = opts.follow === false ? AbortSignal.abort() : opts.signal;
  const entries = async function* (): AsyncGenerator<LogLine> {
    // The pipes of a detached container do not keep Node running: following them does.
    const release = hold();
    try {
      for await (const l of output.follow(stop)) if (wanted(l)) yield l;
    } finally {
      release();
    }
  };
  return {
    text: () => (stream === 'all' ? output.text('stdout') + output.text('stderr') : output.text(stream)),
    entries,
    async *[Symbol.asyncIterator]() {
      for await (const l of entries()) yield l.line;
    },
  };
}
