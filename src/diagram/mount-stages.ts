// A picture of a mount table changing over a few stages (the labs' pivot_root sequence): one panel per
// stage, each listing the mounts of the container's mount namespace as /proc/PID/mountinfo would, nested
// by parent, coloured by whose they are.
import { COLOURS, Svg, textWidth } from './svg.js';

export type MountKind = 'host' | 'container' | 'old' | 'gone';

export interface StageMount {
  /** Where it is mounted, as the container's process would see the path at that stage. */
  path: string;
  /** What it is (filesystem, bind of what). */
  what: string;
  kind: MountKind;
  /** Nesting below the previous mount of smaller depth. */
  depth: number;
}

export interface Stage {
  /** The call(s) that lead to this stage, and one line of what changed. */
  caption: string[];
  mounts: StageMount[];
}

export interface MountStages {
  title: string;
  stages: Stage[];
  /** Panels per row. */
  columns: number;
  legend: Partial<Record<MountKind, string>>;
}

const STYLE: Record<MountKind, { fill: string; stroke: string; dash?: boolean }> = {
  host: { fill: COLOURS.host, stroke: COLOURS.hostStroke },
  container: { fill: COLOURS.container, stroke: COLOURS.containerStroke },
  old: { fill: COLOURS.shared, stroke: COLOURS.sharedStroke, dash: true },
  gone: { fill: COLOURS.bad, stroke: COLOURS.badStroke, dash: true },
};

const SIZE = 12;
const ROW = 26;
const INDENT = 22;
const PAD = 14;

export function renderMountStages(d: MountStages): string {
  const label = (m: StageMount): string => `${m.path}  ${m.what}`;
  const widest = Math.max(...d.stages.flatMap((s) => [
    ...s.mounts.map((m) => m.depth * INDENT + textWidth(label(m), SIZE) + 16),
    ...s.caption.map((c) => textWidth(c, SIZE)),
  ]));
  const panelW = Math.ceil(widest + 2 * PAD);
  const tallest = Math.max(...d.stages.map((s) => s.caption.length * 17 + s.mounts.length * ROW));
  const panelH = tallest + 3 * PAD;
  const rows = Math.ceil(d.stages.length / d.columns);
  const gap = 28;
  const top = 44;
  const legendH = 34;
  const width = d.columns * panelW + (d.columns + 1) * gap;
  const height = top + rows * panelH + (rows - 1) * gap + legendH + gap;
  const svg = new Svg();
  svg.text(gap, 28, d.title, { size: 16, bold: true });
  d.stages.forEach((stage, i) => {
    const px = gap + (i % d.columns) * (panelW + gap);
    const py = top + Math.floor(i / d.columns) * (panelH + gap);
    svg.rect(px, py, panelW, panelH, { stroke: COLOURS.line });
    stage.caption.forEach((c, j) => svg.text(px + PAD, py + PAD + 12 + j * 17, c, { size: SIZE, bold: j === 0, ...(j > 0 ? { fill: COLOURS.muted } : {}) }));
    const y0 = py + PAD + stage.caption.length * 17 + 8;
    // A parent's connector runs down its left side to each child.
    const parents: { x: number; y: number }[] = [];
    stage.mounts.forEach((m, j) => {
      const x = px + PAD + m.depth * INDENT;
      const y = y0 + j * ROW;
      const st = STYLE[m.kind];
      const w = textWidth(label(m), SIZE) + 16;
      parents.length = m.depth;
      const parent = parents[m.depth - 1];
      if (parent) svg.path([[parent.x + 8, parent.y + 20], [parent.x + 8, y + 10], [x, y + 10]], { stroke: COLOURS.line, width: 1 });
      svg.rect(x, y, w, 20, { fill: st.fill, stroke: st.stroke, ...(st.dash ? { dash: true } : {}) });
      svg.text(x + 8, y + 14, m.path, { size: SIZE, bold: m.kind !== 'gone', ...(m.kind === 'gone' ? { fill: COLOURS.muted, italic: true } : {}) });
      svg.text(x + 8 + textWidth(`${m.path}  `, SIZE), y + 14, m.what, { size: SIZE, fill: COLOURS.muted, ...(m.kind === 'gone' ? { italic: true } : {}) });
      parents[m.depth] = { x, y };
    });
  });
  // The legend: what each colour means.
  let lx = gap;
  const ly = height - legendH;
  for (const [kind, text] of Object.entries(d.legend) as [MountKind, string][]) {
    const st = STYLE[kind];
    svg.rect(lx, ly, 16, 14, { fill: st.fill, stroke: st.stroke, ...(st.dash ? { dash: true } : {}), rx: 2 });
    svg.text(lx + 22, ly + 12, text, { size: SIZE });
    lx += 22 + textWidth(text, SIZE) + 24;
  }
  return svg.render(width, height, d.title);
}
