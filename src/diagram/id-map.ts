// A picture of a user namespace's id map (/proc/PID/uid_map): the ids inside on one line, the host's ids
// on another, each mapped range joined to the range it stands for, and a few ids followed across.
import { COLOURS, Svg, textWidth } from './svg.js';

export interface IdRange { containerID: number; hostID: number; size: number }

export interface IdMapPicture {
  title: string;
  /** `uid` or `gid`: which file the map is. */
  kind: string;
  mappings: IdRange[];
  /** Ids inside to follow across, with a word for each ("root"). */
  examples: { inside: number; label: string }[];
  /** The id an unmapped one shows as inside (the overflow id, /proc/sys/kernel/overflowuid). */
  overflow: number;
}

const SIZE = 12;
const LEFT = 200;
const BAR_W = 640;
const BAR_H = 34;

/**
 * The host's line is not to scale: it is cut into the mapped ranges and the gaps between them, each gap a
 * fixed width, so a range of 65536 ids out of 4 billion stays visible.
 */
function hostSegments(maps: IdRange[]): { from: number; to: number; mapped: boolean }[] {
  const sorted = [...maps].sort((a, b) => a.hostID - b.hostID);
  const segs: { from: number; to: number; mapped: boolean }[] = [];
  let at = 0;
  for (const m of sorted) {
    if (m.hostID > at) segs.push({ from: at, to: m.hostID - 1, mapped: false });
    segs.push({ from: m.hostID, to: m.hostID + m.size - 1, mapped: true });
    at = m.hostID + m.size;
  }
  segs.push({ from: at, to: 4294967294, mapped: false });
  return segs;
}

export function renderIdMap(d: IdMapPicture): string {
  const svg = new Svg();
  const insideY = 100;
  const hostY = 250;
  svg.text(24, 30, d.title, { size: 16, bold: true });
  svg.text(24, 52, `/proc/PID/${d.kind}_map: ${d.mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}`).join('; ')}   (first id inside, first id outside, how many)`, { size: SIZE, fill: COLOURS.muted });
  svg.text(24, insideY + 22, 'inside the', { size: SIZE, bold: true });
  svg.text(24, insideY + 38, 'user namespace', { size: SIZE, bold: true });
  svg.text(24, hostY + 22, 'on the host', { size: SIZE, bold: true });
  // Inside: the mapped ranges, side by side, then the unmapped rest.
  const insideTotal = d.mappings.reduce((a, m) => a + m.size, 0);
  const insideW = BAR_W * 0.78;
  const insideX = new Map<IdRange, [number, number]>();
  let x = LEFT;
  for (const m of [...d.mappings].sort((a, b) => a.containerID - b.containerID)) {
    const w = (m.size / insideTotal) * insideW;
    svg.box(x, insideY, w, BAR_H, [`${m.containerID} … ${m.containerID + m.size - 1}`], { fill: COLOURS.container, stroke: COLOURS.containerStroke, size: SIZE, centre: true });
    insideX.set(m, [x, x + w]);
    x += w;
  }
  svg.box(x, insideY, LEFT + BAR_W - x, BAR_H, ['not mapped'], { fill: COLOURS.shared, stroke: COLOURS.sharedStroke, dash: true, size: SIZE, centre: true });
  svg.text(LEFT, insideY - 10, `an id the map does not cover shows inside as ${d.overflow} (nobody)`, { size: SIZE - 1, fill: COLOURS.muted });
  // Host: gaps fixed width, mapped ranges share the rest.
  const segs = hostSegments(d.mappings);
  const gapW = 120;
  const mappedW = (BAR_W - gapW * segs.filter((s) => !s.mapped).length) / Math.max(1, segs.filter((s) => s.mapped).length);
  const hostX = new Map<number, [number, number]>();
  x = LEFT;
  for (const s of segs) {
    const w = s.mapped ? mappedW : gapW;
    const text = s.to === 4294967294 ? `${s.from} …` : `${s.from} … ${s.to}`;
    svg.box(x, hostY, w, BAR_H, [text], s.mapped
      ? { fill: COLOURS.host, stroke: COLOURS.hostStroke, size: SIZE, centre: true }
      : { fill: COLOURS.shared, stroke: COLOURS.sharedStroke, dash: true, size: SIZE, centre: true });
    if (s.mapped) hostX.set(s.from, [x, x + w]);
    x += w;
  }
  svg.text(LEFT, hostY + BAR_H + 18, 'the host\'s own ids (root is 0) are in none of the container\'s ranges: not mapped into it', { size: SIZE - 1, fill: COLOURS.muted });
  // Each range joined to its host range: the two end lines of a band.
  for (const m of d.mappings) {
    const [ia, ib] = insideX.get(m)!;
    const [ha, hb] = hostX.get(m.hostID)!;
    svg.line(ia, insideY + BAR_H, ha, hostY, { stroke: COLOURS.containerStroke, dash: true, width: 1 });
    svg.line(ib, insideY + BAR_H, hb, hostY, { stroke: COLOURS.containerStroke, dash: true, width: 1 });
  }
  // The examples: inside id → host id, with arrows, placed along their ranges.
  d.examples.forEach((e, i) => {
    const m = d.mappings.find((r) => e.inside >= r.containerID && e.inside < r.containerID + r.size);
    if (!m) return;
    const [ia, ib] = insideX.get(m)!;
    const [ha, hb] = hostX.get(m.hostID)!;
    const f = (e.inside - m.containerID) / m.size;
    const spread = 0.12 + 0.5 * (i / Math.max(1, d.examples.length));
    const x1 = ia + (ib - ia) * Math.max(f, spread);
    const x2 = ha + (hb - ha) * Math.max(f, spread);
    const host = m.hostID + (e.inside - m.containerID);
    svg.line(x1, insideY + BAR_H + 4, x2, hostY - 4, { stroke: COLOURS.ink, arrow: true, width: 1.2 });
    const label = `${e.label}: ${e.inside} → ${host}`;
    // On the arrow, a third and two thirds of the way down: the labels never meet.
    const t = (i + 1) / (d.examples.length + 1);
    svg.label(x1 + (x2 - x1) * t + 6, insideY + BAR_H + (hostY - insideY - BAR_H) * t + 4, label, { size: SIZE, bold: true });
  });
  const width = LEFT + BAR_W + 24;
  const note = 'The kernel stores host ids (on disk, in /proc); it translates them through the map on every stat, chown and permission check.';
  svg.text(24, hostY + BAR_H + 48, note, { size: SIZE - 1, fill: COLOURS.muted });
  return svg.render(Math.max(width, 24 + textWidth(note, SIZE - 1) + 24), hostY + BAR_H + 66, d.title);
}
