// Import progress on a terminal: one line rewritten in place ("layer 2/5  41.3 MiB"). Hand-rolled
// (a dozen lines) rather than a dependency; silent unless the stream is a TTY.
import type { WriteStream } from 'node:tty';
import type { ImportProgress } from './import.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** A progress reporter drawing on `out` at most every 100 ms, or undefined when `out` is no TTY. */
export function terminalProgress(out: WriteStream | NodeJS.WriteStream): ImportProgress | undefined {
  if (!out.isTTY) return undefined;
  let layer = 0;
  let count = 0;
  let size: number | undefined;
  let bytes = 0;
  let total = 0;
  let last = 0;
  const draw = (force = false): void => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const of = size ? ` / ${formatBytes(size)}` : '';
    out.write(`\r\x1b[Klayer ${layer + 1}/${count}  ${formatBytes(bytes)}${of}  (total ${formatBytes(total)})`);
  };
  return {
    layerStart(i, n, _diffId, s, cached) {
      layer = i; count = n; size = s; bytes = 0;
      if (cached) out.write(`\r\x1b[Klayer ${i + 1}/${n}  already in the store\n`);
      else draw(true);
    },
    bytes(n) { bytes += n; total += n; draw(); },
    layerDone(i) { if (bytes > 0 || i === count - 1) { draw(true); out.write('\n'); } },
  };
}
