// `tsrun inspect --svg ID` / `--dot ID`: a running container drawn next to the host. Left the host (what
// tsrun itself is in), right the container: each namespace kind as a box with its inode (one box across
// both sides when they share it), the cgroup as the host names it and as the container reads it, and the
// container's mounts with its `/` tied to the host directory it is.
import type { Inspection } from '../container/inspect.js';
import { COLOURS, Svg, textWidth } from './svg.js';

const SIZE = 12;
const ROW = 30;
const MAX_MOUNTS = 14;

export function renderInspectionSvg(i: Inspection): string {
  const svg = new Svg();
  const title = `container ${i.id} (init pid ${i.pid} on the host, ${i.status}) next to the host`;
  const colW = Math.max(320, ...i.mounts.slice(0, MAX_MOUNTS).map((m) => textWidth(`${m.mountPoint}  ${m.fsType}  ${m.propagation}`, SIZE) + 30),
    textWidth(i.rootfs, SIZE) + 30, i.cgroup ? textWidth(i.cgroup.path, SIZE) + 30 : 0);
  const gutter = 90;
  const hostX = 150;
  const ctrX = hostX + colW + gutter;
  const width = ctrX + colW + 24;
  let y = 34;
  svg.text(24, y, title, { size: 15, bold: true });
  y += 30;
  svg.text(hostX + colW / 2, y, 'host (where tsrun runs)', { size: 13, bold: true, anchor: 'middle' });
  svg.text(ctrX + colW / 2, y, `container ${i.id}`, { size: 13, bold: true, anchor: 'middle' });
  y += 16;

  // Namespaces: own box each side, or one box across both when shared.
  svg.text(24, y + 18, 'namespaces', { size: 13, bold: true });
  svg.text(24, y + 34, 'ls -l /proc/PID/ns', { size: SIZE - 1, fill: COLOURS.muted });
  for (const n of i.namespaces) {
    if (n.isolated) {
      svg.box(hostX, y, colW, ROW - 6, [n.host], { fill: COLOURS.host, stroke: COLOURS.hostStroke, size: SIZE });
      svg.box(ctrX, y, colW, ROW - 6, [`${n.container}  (its own)`], { fill: COLOURS.container, stroke: COLOURS.containerStroke, size: SIZE });
    } else {
      svg.box(hostX, y, ctrX + colW - hostX, ROW - 6, [`${n.container}  shared: the container is in the host's ${n.type} namespace`], { fill: COLOURS.shared, stroke: COLOURS.sharedStroke, size: SIZE });
    }
    y += ROW;
  }
  y += 14;

  // The cgroup: the host's path, and what the container reads in /proc/self/cgroup.
  if (i.cgroup) {
    svg.text(24, y + 18, 'cgroup', { size: 13, bold: true });
    svg.text(24, y + 34, '/proc/PID/cgroup', { size: SIZE - 1, fill: COLOURS.muted });
    svg.box(hostX, y, colW, 2 * ROW - 6, [i.cgroup.path, `named ${i.cgroup.hostView}`], { fill: COLOURS.host, stroke: COLOURS.hostStroke, size: SIZE });
    const own = i.cgroup.containerView === '/' && i.cgroup.hostView !== '/';
    svg.box(ctrX, y, colW, 2 * ROW - 6, [`0::${i.cgroup.containerView}`, own ? 'its cgroup namespace makes it the root' : 'no cgroup namespace: the host\'s name'],
      { fill: COLOURS.container, stroke: COLOURS.containerStroke, size: SIZE });
    svg.line(ctrX - 4, y + ROW - 3, hostX + colW + 6, y + ROW - 3, { stroke: COLOURS.ink, arrow: true });
    svg.label((hostX + colW + ctrX) / 2, y + ROW - 8, 'is', { size: SIZE - 1, anchor: 'middle', fill: COLOURS.muted });
    y += 2 * ROW + 14;
  }

  // Mounts: the container's table; its / is the host's rootfs directory.
  svg.text(24, y + 18, 'mounts', { size: 13, bold: true });
  svg.text(24, y + 34, '/proc/PID/mountinfo', { size: SIZE - 1, fill: COLOURS.muted });
  svg.box(hostX, y, colW, ROW - 6, [i.rootfs], { fill: COLOURS.host, stroke: COLOURS.hostStroke, size: SIZE });
  const shown = i.mounts.slice(0, MAX_MOUNTS);
  shown.forEach((m, k) => {
    svg.box(ctrX, y + k * ROW, colW, ROW - 6, [`${m.mountPoint}  ${m.fsType}  ${m.propagation}`], { fill: COLOURS.container, stroke: COLOURS.containerStroke, size: SIZE });
  });
  if (shown[0]?.mountPoint === '/') {
    svg.line(ctrX - 4, y + (ROW - 6) / 2, hostX + colW + 6, y + (ROW - 6) / 2, { stroke: COLOURS.ink, arrow: true });
    svg.label((hostX + colW + ctrX) / 2, y + (ROW - 6) / 2 - 5, '/ is', { size: SIZE - 1, anchor: 'middle', fill: COLOURS.muted });
  }
  y += shown.length * ROW;
  if (i.mounts.length > shown.length) {
    svg.text(ctrX, y + 12, `… and ${i.mounts.length - shown.length} more (tsrun inspect ${i.id})`, { size: SIZE, fill: COLOURS.muted });
    y += 24;
  }
  return svg.render(width, y + 20, title);
}

/** A DOT string of lines: each escaped, joined by `\n` (centred) or ended by `\l` (left-justified). */
const dotEscape = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const dotQuote = (...lines: string[]): string => `"${lines.map(dotEscape).join('\\n')}"`;
const dotLeft = (...lines: string[]): string => `"${lines.map((l) => `${dotEscape(l)}\\l`).join('')}"`;

/** The same picture as a Graphviz graph (`tsrun inspect --dot ID | dot -Tsvg > ctr.svg`). */
export function renderInspectionDot(i: Inspection): string {
  const out: string[] = [
    `digraph ${dotQuote(`tsrun ${i.id}`)} {`,
    '  rankdir=LR; node [shape=box, style="rounded,filled", fontname="DejaVu Sans Mono", fontsize=11];',
    `  label=${dotQuote(`container ${i.id} (init pid ${i.pid} on the host, ${i.status}) next to the host`)}; labelloc=t;`,
  ];
  const host: string[] = [];
  const ctr: string[] = [];
  const shared: string[] = [];
  for (const n of i.namespaces) {
    if (n.isolated) {
      host.push(`    host_${n.type} [label=${dotQuote(n.host)}, fillcolor="${COLOURS.host}"];`);
      ctr.push(`    ctr_${n.type} [label=${dotQuote(`${n.container} (its own)`)}, fillcolor="${COLOURS.container}"];`);
    } else {
      shared.push(`  shared_${n.type} [label=${dotQuote(`${n.container} (shared)`)}, fillcolor="${COLOURS.shared}"];`);
    }
  }
  if (i.cgroup) {
    host.push(`    host_cgroup_dir [label=${dotQuote(`cgroup ${i.cgroup.path}`, `named ${i.cgroup.hostView}`)}, fillcolor="${COLOURS.host}"];`);
    ctr.push(`    ctr_cgroup_view [label=${dotQuote(`/proc/self/cgroup: 0::${i.cgroup.containerView}`)}, fillcolor="${COLOURS.container}"];`);
  }
  host.push(`    host_rootfs [label=${dotQuote(`rootfs ${i.rootfs}`)}, fillcolor="${COLOURS.host}"];`);
  const rows = i.mounts.map((m) => `${m.mountPoint}  ${m.fsType}  ${m.propagation}`);
  ctr.push(`    ctr_mounts [label=${dotLeft('mounts (mount point, type, propagation):', ...rows)}, fillcolor="${COLOURS.container}"];`);
  out.push('  subgraph cluster_host {', '    label="host (where tsrun runs)";', ...host, '  }');
  out.push(`  subgraph cluster_container {`, `    label=${dotQuote(`container ${i.id}`)};`, ...ctr, '  }');
  out.push(...shared);
  for (const n of i.namespaces) {
    if (!n.isolated) out.push(`  host_rootfs -> shared_${n.type} [style=invis];`);
    else out.push(`  host_${n.type} -> ctr_${n.type} [style=dashed, dir=none, label="differs", fontsize=9];`);
  }
  // Edges run host → container (rankdir=LR keeps the host on the left); the arrow points at the host.
  if (i.cgroup) out.push('  host_cgroup_dir -> ctr_cgroup_view [dir=back, label="is"];');
  out.push('  host_rootfs -> ctr_mounts [dir=back, label="/ is"];', '}', '');
  return out.join('\n');
}
