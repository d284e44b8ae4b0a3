// The pipes a library container (or exec'd process) gets instead of tsrun's fds 0-2: tsrun keeps
// the ends it reads (and the one it writes `input` into) and closes the container's ends once the
// process has them (after the clone). stdin without `input` is /dev/null.
//
// A run() whose output nobody follows live (no `stdout`/`stderr` stream) gets memory files instead
// of the two output pipes (makeCapture): tsrun reads each once, when the container and whatever it
// left are gone. No pipe, no Socket, no read per chunk on the event loop: ~0.3 ms of a run()
// here. A file never blocks its writer as a full pipe does; its pages are charged to the writer's
// memory cgroup, the container's.
import { constants as bufferConstants } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { Socket } from 'node:net';
import { TsrunError } from '../errors.js';
import * as shim from '../native/shim.js';
import type { StdioFds } from '../process/stdio.js';
import { drained } from './defaults.js';
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
  /** Once the process (and, for run(), its container) is gone: the output is complete in `output`. */
  finish(): Promise<void>;
}

const { MAX_STRING_LENGTH } = bufferConstants;

/** The stdin of a process: a pipe `input` is written into once handed over, or /dev/null. */
interface Stdin {
  fd: number;
  /** Our fds to close when the process has its own, or at a failure. */
  opened: number[];
  /** The /dev/null fd (fs opened it), -1 with `input`. */
  nullFd: number;
  handedOver(): Socket | undefined;
}

function makeStdin(input: IoOptions['input']): Stdin {
  if (input === undefined) {
    const nullFd = openSync('/dev/null', constants.O_RDONLY);
    return { fd: nullFd, opened: [nullFd], nullFd, handedOver: () => undefined };
  }
  const [theirs, ours] = shim.pipe();
  return {
    fd: theirs, opened: [theirs, ours], nullFd: -1,
    handedOver() {
      const writer = new Socket({ fd: ours, readable: false, writable: true });
      // A process that exits without reading its input closes the pipe: EPIPE is no failure of ours.
      writer.on('error', () => {});
      writer.end(input);
      return writer;
    },
  };
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
 * Closes one of our fds the way it was opened: /dev/null through fs (which tracks the fds it opens
 * in a worker thread and warns about others), the pipes and memory files (made by the shim) through the shim.
 */
function closeOurs(fd: number, fsOpened: number): void {
  if (fd === fsOpened) { try { closeSync(fd); } catch { /* closed */ } return; }
  shim.closeFd(fd);
}

/**
 * Pipes for stdout and stderr, read as the process writes (start(), exec(), a run() with streams).
 * `unref`: reading a detached container's output does not keep Node running (a script that forgot
 * stop() ends, and its container with it); whoever awaits its output holds Node open meanwhile.
 */
export function makePipes(io: Pick<IoOptions, 'input' | 'stdout' | 'stderr'>, opts: { unref?: boolean } = {}): ProcessPipes {
  // Made first: when it fails, nothing of it is open.
  const stdin = makeStdin(io.input);
  const { fd: stdinFd, nullFd } = stdin;
  const opened = [...stdin.opened];
  try {
    const out = shim.pipe();
    opened.push(...out);
    const err = shim.pipe();
    opened.push(...err);
    const output = new Output({ ...(io.stdout ? { stdout: io.stdout } : {}), ...(io.stderr ? { stderr: io.stderr } : {}) });
    let readers: Socket[] = [];
    let writer: Socket | undefined;
    return {
      fds: { stdin: stdinFd, stdout: out[1], stderr: err[1] },
      output,
      handedOver() {
        for (const fd of [stdinFd, out[1], err[1]]) closeOurs(fd, nullFd);
        readers = [readInto(out[0], output, 'stdout', opts.unref ?? false), readInto(err[0], output, 'stderr', opts.unref ?? false)];
        writer = stdin.handedOver();
      },
      abandon() {
        if (readers.length || writer) {
          for (const r of readers) r.destroy();
          writer?.destroy();
          return;
        }
        for (const fd of opened) closeOurs(fd, nullFd);
        output.end('stdout');
        output.end('stderr');
      },
      finish: () => drained(output.ended),
    };
  } catch (e) {
    for (const fd of opened) closeOurs(fd, nullFd);
    throw e;
  }
}

/**
 * Memory files for stdout and stderr, read once by finish() (a run() that nobody follows live: see
 * the top of this file). The process gets them as its fds 1 and 2; ours stay open to read them.
 */
export function makeCapture(io: Pick<IoOptions, 'input'>): ProcessPipes {
  // Made first: when it fails, nothing of it is open.
  const stdin = makeStdin(io.input);
  const opened = [...stdin.opened];
  try {
    const out = shim.memfd('stdout');
    opened.push(out);
    const err = shim.memfd('stderr');
    opened.push(err);
    const output = new Output();
    let writer: Socket | undefined;
    let handed = false;
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      for (const fd of [out, err]) shim.closeFd(fd);
    };
    return {
      fds: { stdin: stdin.fd, stdout: out, stderr: err },
      output,
      handedOver() {
        handed = true;
        closeOurs(stdin.fd, stdin.nullFd);
        writer = stdin.handedOver();
      },
      abandon() {
        writer?.destroy();
        if (!handed) for (const fd of stdin.opened) closeOurs(fd, stdin.nullFd);
        close();
        if (!output.isEnded) { output.end('stdout'); output.end('stderr'); }
      },
      async finish() {
        if (closed) return;
        let texts: [Buffer, Buffer];
        try {
          // Both read before either stream ends: a refused one leaves both open for abandon() to end.
          texts = [readWhole(out, 'stdout'), readWhole(err, 'stderr')];
        } finally {
          close();
        }
        for (const [bytes, stream] of [[texts[0], 'stdout'], [texts[1], 'stderr']] as const) {
          if (bytes.length) output.push(stream, bytes);
          output.end(stream);
        }
      },
    };
  } catch (e) {
    for (const fd of opened) closeOurs(fd, stdin.nullFd);
    throw e;
  }
}

/**
 * Everything in a memory file, from its start (the writers' offset is theirs). No more than a string
 * can hold (run() returns the output as text): a container that wrote more, or seeked far past its
 * end (a sparse file costs it nothing), is refused before any of it is read.
 */
function readWhole(fd: number, stream: 'stdout' | 'stderr'): Buffer {
  const size = fstatSync(fd).size;
  if (size > MAX_STRING_LENGTH) {
    throw new TsrunError(`the container's ${stream} holds ${size} bytes, more than run() can return as text (${MAX_STRING_LENGTH}): give run() a ${stream} stream to take output of that size`, { code: 'E2BIG' });
  }
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}
