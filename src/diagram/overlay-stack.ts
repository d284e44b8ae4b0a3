// A picture of an overlay mount: the layers as rows (upper on top, then each lower), the paths as
// columns, and above them the merged view, which is worked out here by overlayfs's rules (not drawn by
// hand): a file comes from the topmost layer that has it, a whiteout hides the name below it, an
// opaque directory hides everything the layers below have in it, directories merge.
import { COLOURS, Svg, textWidth } from './svg.js';

/** What a layer holds at a path. */
export type Entry = { kind: 'file'; note?: string } | { kind: 'dir' } | { kind: 'opaque' } | { kind: 'whiteout' };

export interface OverlayLayer {
  name: string;
  /** What the mount calls it (upperdir, lowerdir 1…). */
  role: string;
  entries: Record<string, Entry>;
}

export interface OverlayPicture {
  title: string;
  /** Paths, in column order; a directory ends with '/'. */
  paths: string[];
  /** Top first: upper, then the lower layers in lowerdir order. */
  layers: OverlayLayer[];
}

export interface Resolved {
  path: string;
  /** Index of the layer the merged view takes it from; undefined when it does not exist there. */
  from?: number;
  /** Every layer a merged directory takes entries from (top first); [from] for a file. */
  layers: number[];
  /** Why: "whiteout in top layer", "opaque dir in top layer", "merged from upper, base layer". */
  why: string;
}

const parentDirs = (path: string): string[] => {
  const parts = path.replace(/\/$/, '').split('/');
  return parts.slice(0, -1).map((_p, i) => parts.slice(0, i + 1).join('/') + '/');
};

/** overlayfs's lookup of one path through the layers, top first. */
export function resolvePath(layers: OverlayLayer[], path: string): Resolved {
  const isDir = path.endsWith('/');
  const found: number[] = [];
  const names = (ix: number[]): string => ix.map((j) => layers[j]!.name).join(', ');
  const merged = (extra = ''): Resolved => ({ path, from: found[0]!, layers: found, why: found.length > 1 ? `merged: ${names(found)}${extra}` : `from ${names(found)}${extra}` });
  for (let i = 0; i < layers.length; i++) {
    // A parent directory that is opaque (or whited out) in a higher layer hides this layer's copy.
    const hider = parentDirs(path).map((d) => layers.slice(0, i).findIndex((h) => h.entries[d]?.kind === 'opaque' || h.entries[d]?.kind === 'whiteout')).find((x) => x >= 0);
    if (hider !== undefined) {
      return found.length ? merged() : { path, layers: [], why: `hidden: its directory is opaque in ${layers[hider]!.name}` };
    }
    const e = layers[i]!.entries[path];
    if (!e) continue;
    if (e.kind === 'whiteout') return found.length ? merged() : { path, layers: [], why: `gone: whiteout in ${layers[i]!.name}` };
    found.push(i);
    if (!isDir) return { path, from: i, layers: [i], why: `from ${layers[i]!.name}` };
    if (e.kind === 'opaque') return merged(found.length === 1 ? ' only (opaque)' : '');
  }
  return found.length ? merged() : { path, layers: [], why: 'in no layer' };
}

const SIZE = 12;
const CELL_H = 58;

function entryStyle(e: Entry | undefined): { fill: string; stroke: string; dash?: boolean; text: string[] } {
  if (!e) return { fill: 'none', stroke: 'none', text: [] };
  switch (e.kind) {
    case 'file': return { fill: COLOURS.container, stroke: COLOURS.containerStroke, text: ['file', ...(e.note ? [e.note] : [])] };
    case 'dir': return { fill: COLOURS.host, stroke: COLOURS.hostStroke, text: ['directory'] };
    case 'opaque': return { fill: COLOURS.note, stroke: COLOURS.noteStroke, text: ['opaque dir', 'xattr opaque=y'] };
    case 'whiteout': return { fill: COLOURS.bad, stroke: COLOURS.badStroke, dash: true, text: ['whiteout', 'char dev 0:0'] };
  }
}

export function renderOverlayStack(d: OverlayPicture): string {
  const svg = new Svg();
  const colW = Math.max(...d.paths.map((p) => textWidth(p, SIZE)), textWidth('xattr opaque=y', SIZE)) + 22;
  const labelW = Math.max(...d.layers.map((l) => Math.max(textWidth(l.name, SIZE + 1), textWidth(l.role, SIZE - 1))), textWidth('merged view', SIZE + 1)) + 30;
  const x0 = 24 + labelW;
  const headerY = 62;
  const mergedY = headerY + 18;
  const layersY = mergedY + CELL_H + 46;
  const rowY = (i: number): number => layersY + i * (CELL_H + 12);
  svg.text(24, 30, d.title, { size: 16, bold: true });
  d.paths.forEach((p, c) => svg.text(x0 + c * colW + colW / 2, headerY, p, { size: SIZE, bold: true, anchor: 'middle' }));
  svg.text(24, mergedY + 20, 'merged view', { size: SIZE + 1, bold: true });
  svg.text(24, mergedY + 36, 'what the container sees', { size: SIZE - 1, fill: COLOURS.muted });
  d.layers.forEach((l, i) => {
    svg.text(24, rowY(i) + 20, l.name, { size: SIZE + 1, bold: true });
    svg.text(24, rowY(i) + 36, l.role, { size: SIZE - 1, fill: COLOURS.muted });
    svg.line(x0 - 6, rowY(i) + CELL_H + 6, x0 + d.paths.length * colW, rowY(i) + CELL_H + 6, { stroke: COLOURS.shared, width: 1 });
  });
  d.paths.forEach((p, c) => {
    const cx = x0 + c * colW;
    d.layers.forEach((l, i) => {
      const st = entryStyle(l.entries[p]);
      if (st.text.length) svg.box(cx + 4, rowY(i), colW - 8, CELL_H, st.text, { fill: st.fill, stroke: st.stroke, ...(st.dash ? { dash: true } : {}), size: SIZE - 1, centre: true });
    });
    const r = resolvePath(d.layers, p);
    if (r.from === undefined) {
      svg.box(cx + 4, mergedY, colW - 8, CELL_H, ['absent', ...wrapWhy(r.why, colW)], { fill: COLOURS.shared, stroke: COLOURS.sharedStroke, dash: true, size: SIZE - 2, centre: true });
    } else {
      svg.box(cx + 4, mergedY, colW - 8, CELL_H, [p.endsWith('/') ? 'directory' : 'file', ...wrapWhy(r.why, colW)], { fill: COLOURS.good, stroke: COLOURS.goodStroke, size: SIZE - 2, centre: true });
      // One arrow from every layer the merged entry takes something from, side by side.
      // A file's arrow runs in the middle of the column; a merged directory's several run down its left
      // edge, clear of the text of the cells they cross.
      r.layers.forEach((layer, k) => {
        const ax = r.layers.length === 1 ? cx + colW / 2 : cx + 12 + k * 7;
        svg.line(ax, rowY(layer), ax, mergedY + CELL_H + 4, { stroke: COLOURS.goodStroke, arrow: true, width: 1.5 });
      });
    }
  });
  const width = x0 + d.paths.length * colW + 24;
  const foot = rowY(d.layers.length) + 4;
  svg.text(24, foot + 10, 'A file comes from the topmost layer that has it; directories are merged; a whiteout hides the name below it;', { size: SIZE - 1, fill: COLOURS.muted });
  svg.text(24, foot + 26, 'an opaque directory hides what the layers below have in it. Writes go to upper (a changed lower file is copied up first).', { size: SIZE - 1, fill: COLOURS.muted });
  return svg.render(width, foot + 40, d.title);
}

/** The reason on at most three lines under the cell's first one, wrapped at spaces. */
function wrapWhy(why: string, colW: number): string[] {
  const max = Math.floor((colW - 8) / ((SIZE - 2) * 0.6));
  const lines: string[] = [];
  let line = '';
  for (const w of why.split(' ')) {
    if (line && line.length + 1 + w.length > max) { lines.push(line); line = w; } else line = line ? `${line} ${w}` : w;
  }
  lines.push(line);
  return lines.length > 3 ? [lines[0]!, lines[1]!, `${lines.slice(2).join(' ').slice(0, max - 1)}…`] : lines;
}
