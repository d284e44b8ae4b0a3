// The pipes a library container (or exec'd process) gets instead of tsrun's fds 0-2: tsrun keeps
// the ends it reads (and the one it writes `input` into) and closes the container's ends once the
// process has them (after the clone). stdin without `input` is /dev/null.
import { closeSync, constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import * as shim from '../native/shim.js';
import type { StdioFds } from '../process/stdio.js';
import { Output } from './output.js';
import type { IoOptions } from './types.js';

export interface ProcessPipes {
  /** The container's ends, for the plan's dupFd steps. */
  fds: StdioFds;
  output: Output;
  /** Once the process is cloned: our copies of its ends go, and `input` is written. */
  handedOver(): void;
  /** A failure before or at the spawn: everything closes. */
  abandon(): void;
}

function readInto(fd: number, output: Output, stream: 'stdout' | 'stderr', unref: boolean): Socket {
  const s = new Socket({ fd, readable: true, writable: false });
  if (unref) s.unref();
  s.on('data', (chunk: Buffer) => output.push(stream, chunk));
  // 'close' comes after 'end' and also after an error: the stream is over either way.
  s.on('error', () => {});
  s.once('close', () => output.end(stream));
  return s;
}

/**
 * `unref`: reading a detached container's output does not keep Node running (a script that forgot
 * stop() ends, and its container with it); whoever awaits its output holds Node open meanwhile.
 */
/**
 * Closes one of our fds the way it was opened: /dev/null through fs (which tracks the fds it opens
 * in a worker thread and warns about others), the pipes (made by the shim) through the shim.
 */
function closeOurs(fd: number, fsOpened: number): void {
  if (fd === fsOpened) { try { closeSync(fd); } catch { /* closed */ } return; }
  shim.closeFd(fd);
}

export function makePipes(io: Pick<IoOptions, 'input' | 'stdout' | 'stderr'>, opts: { unref?: boolean } = {}): ProcessPipes {
  const opened: number[] = [];
  try {
    const stdin = io.input !== undefined ? shim.pipe() : undefined;
    if (stdin) opened.push(...stdin);
    const nullIn = stdin ? -1 : openSync('/dev/null', constants.O_RDONLY);
    if (nullIn >= 0) opened.push(nullIn);
    const out = shim.pipe();
    opened.push(...out);
    const err = shim.pipe();
    opened.push(...err);
    const output = new Output({ ...(io.stdout ? { stdout: io.stdout } : {}), ...(io.stderr ? { stderr: io.stderr } : {}) });
    const theirs = [stdin ? stdin[0] : nullIn, out[1], err[1]];
    let readers: Socket[] = [];
    let writer: Socket | undefined;
    return {
      fds: { stdin: theirs[0]!, stdout: theirs[1]!, stderr: theirs[2]! },
      output,
      handedOver() {
        for (const fd of theirs) closeOurs(fd, nullIn);
        readers = [readInto(out[0], output, 'stdout', opts.unref ?? false), readInto(err[0], output, 'stderr', opts.unref ?? false)];
        if (stdin) {
          writer = new Socket({ fd: stdin[1], readable: false, writable: true });
          // A process that exits without reading its input closes the pipe: EPIPE is no failure of ours.
          writer.on('error', () => {});
          writer.end(io.input!);
        }
      },
      abandon() {
        if (readers.length || writer) {
          for (const r of readers) r.destroy();
          writer?.destroy();
          return;
        }
        for (const fd of opened) closeOurs(fd, nullIn);
        output.end('stdout');
        output.end('stderr');
      },
    };
  } catch (e) {
    for (const fd of opened) closeOurs(fd, -1);
    throw e;
  }
}
