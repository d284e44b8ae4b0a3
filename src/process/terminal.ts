// process.terminal: relay between the caller's terminal and the container's pty master. The
// caller's terminal goes to raw mode so keys like ^C reach the container's line discipline as bytes.
import { createReadStream, createWriteStream } from 'node:fs';
import * as shim from '../native/shim.js';

/** The size of tsrun's own terminal, which a container pty starts with; undefined when not on a TTY. */
export function callerTerminalSize(): { rows: number; cols: number } | undefined {
  return process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : undefined;
}

export interface TerminalRelay {
  /** Resolves when the container side of the pty is closed and all output is written. */
  drained: Promise<void>;
  /** Restores the caller's terminal and stops relaying input. */
  stop(): void;
}

export function relayTerminal(masterFd: number): TerminalRelay {
  const stdin = process.stdin;
  // Not stdin.setRawMode: libuv's raw mode keeps output processing on, and the container's pty
  // already turns \n into \r\n, so the caller would see \r\r\n.
  const restore = stdin.isTTY ? shim.makeRaw(0) : undefined;
  const toContainer = createWriteStream('', { fd: masterFd, autoClose: false });
  const fromContainer = createReadStream('', { fd: masterFd, autoClose: false, highWaterMark: 64 * 1024 });
  stdin.pipe(toContainer);
  const resize = (): void => {
    if (process.stdout.isTTY) shim.setWinsize(masterFd, process.stdout.rows, process.stdout.columns);
  };
  process.on('SIGWINCH', resize);
  const drained = new Promise<void>((resolve) => {
    fromContainer.on('data', (chunk) => process.stdout.write(chunk));
    // EIO from the master means every slave fd is closed: the container side is gone.
    fromContainer.on('error', () => resolve());
    fromContainer.on('end', () => resolve());
  });
  return {
    drained,
    stop() {
      process.off('SIGWINCH', resize);
      stdin.unpipe(toContainer);
      stdin.pause();
      restore?.();
      fromContainer.destroy();
      shim.closeFd(masterFd);
    },
  };
}
