// Pull progress for people. On a terminal: one line per layer (bytes, rate, state), redrawn in
// place at most every 100 ms. Elsewhere (CI logs, a pipe): plain lines, one per change of a layer's
// state, never a carriage return. Hand-rolled: a few escape sequences, no dependency.
import { formatBytes } from '../progress.js';
import type { LayerState, PullEvent } from './progress-events.js';

interface Row { digest: string; size: number; state: LayerState; bytes: number; started?: number; ended?: number; reason?: string }

const short = (digest: string): string => digest.slice(7, 19);

function rate(r: Row, now: number): string {
  const ms = (r.ended ?? now) - (r.started ?? now);
  return ms > 0 && r.bytes > 0 ? `${formatBytes((r.bytes * 1000) / ms)}/s` : '';
}

function describe(r: Row, now: number): string {
  switch (r.state) {
    case 'queued': return 'queued';
    case 'waiting': return 'waiting';
    case 'exists': return 'already in the store';
    case 'downloading': return `${formatBytes(r.bytes)} / ${formatBytes(r.size)}  ${rate(r, now)}`.trimEnd();
    case 'resuming': return `resuming at ${formatBytes(r.bytes)} (${r.reason ?? 'connection lost'})`;
    case 'done': return `done  ${formatBytes(r.size)}  ${rate(r, now)}`.trimEnd();
  }
}

export interface PullDisplay {
  onProgress(e: PullEvent): void;
  /** Draws the final state (a terminal's last frame). */
  finish(): void;
}

/** Collects layer rows from events; `draw` is told whether a row changed state. */
function tracker(draw: (rows: Row[], changed: number | undefined, e: PullEvent) => void): PullDisplay & { rows: Row[] } {
  const rows: Row[] = [];
  return {
    rows,
    onProgress(e) {
      if (e.type !== 'layer') { draw(rows, undefined, e); return; }
      const r = rows[e.index] ??= { digest: e.digest, size: e.size, state: e.state, bytes: 0 };
      const changed = r.state !== e.state || e.state === 'resuming';
      if (e.state === 'downloading' && r.started === undefined) r.started = Date.now();
      if (e.state === 'done') r.ended = Date.now();
      r.state = e.state;
      r.bytes = e.bytes;
      if (e.reason !== undefined) r.reason = e.reason;
      draw(rows, changed ? e.index : undefined, e);
    },
    finish() {},
  };
}

/** One line per layer, redrawn in place (for a terminal). */
export function terminalPullDisplay(out: NodeJS.WritableStream): PullDisplay {
  let drawn = 0;
  let last = 0;
  let rowsRef: Row[] = [];
  const frame = (rows: Row[]): void => {
    const now = Date.now();
    last = now;
    let s = drawn > 0 ? `\x1b[${drawn}A` : '';
    rows.forEach((r, i) => { s += `\r\x1b[K${String(i + 1).padStart(2)}/${rows.length} ${short(r.digest)}  ${describe(r, now)}\n`; });
    drawn = rows.length;
    out.write(s);
  };
  const t = tracker((rows, changed, e) => {
    rowsRef = rows;
    if (e.type === 'manifest') { out.write(`pulling ${e.reference} from ${e.endpoint} (${e.layers} layers)\n`); return; }
    if (e.type === 'done') { frame(rows); out.write(`${e.reference}: ${e.id} (${formatBytes(e.downloaded)} downloaded in ${(e.ms / 1000).toFixed(1)} s)\n`); return; }
    if (changed !== undefined || Date.now() - last >= 100) frame(rows);
  });
  return { onProgress: t.onProgress, finish: () => { if (rowsRef.length) frame(rowsRef); } };
}

/** Plain lines, one per state change (for logs and pipes). */
export function plainPullDisplay(out: NodeJS.WritableStream): PullDisplay {
  const t = tracker((rows, changed, e) => {
    if (e.type === 'manifest') { out.write(`pulling ${e.reference} from ${e.endpoint}: manifest ${e.digest}, ${e.layers} layers\n`); return; }
    if (e.type === 'done') { out.write(`${e.reference}: ${e.id} (${formatBytes(e.downloaded)} downloaded in ${(e.ms / 1000).toFixed(1)} s)\n`); return; }
    if (changed === undefined) return;
    const r = rows[changed]!;
    if (r.state === 'queued' || r.state === 'waiting') return; // a lock is usually free at once: the next state follows
    const what = r.state === 'downloading' ? `downloading ${formatBytes(r.size)}` : describe(r, Date.now());
    out.write(`layer ${changed + 1}/${rows.length} ${short(r.digest)}: ${what}\n`);
  });
  return { onProgress: t.onProgress, finish: () => {} };
}

/** The display for `out`: redrawn lines on a terminal, plain lines elsewhere. */
export function pullDisplay(out: NodeJS.WriteStream): PullDisplay {
  return out.isTTY ? terminalPullDisplay(out) : plainPullDisplay(out);
}
