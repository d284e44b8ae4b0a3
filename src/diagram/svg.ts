// A very small SVG writer for tsrun's pictures (the labs' diagrams, `tsrun inspect --svg`). Everything
// is laid out by the callers on a grid of monospace characters, so a text's width is known without a
// font engine: the output is the same on every machine and can be checked in and compared byte for byte.

/** Width of one character of the monospace font at size 1 (DejaVu Sans Mono and most others: 0.6 em). */
export const CHAR_EM = 0.6;

export const FONT = "'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace";

/** The palette: a few named colours, so pictures agree on what a colour means. */
export const COLOURS = {
  ink: '#1f2328',
  muted: '#57606a',
  line: '#8c959f',
  host: '#ddf4ff', hostStroke: '#54aeff',
  container: '#fff8c5', containerStroke: '#d4a72c',
  shared: '#eaeef2', sharedStroke: '#8c959f',
  good: '#dafbe1', goodStroke: '#4ac26b',
  bad: '#ffebe9', badStroke: '#ff8182',
  note: '#fbefff', noteStroke: '#c297ff',
} as const;

export interface BoxStyle { fill?: string; stroke?: string; dash?: boolean; rx?: number; strokeWidth?: number }
export interface TextStyle { size?: number; anchor?: 'start' | 'middle' | 'end'; bold?: boolean; fill?: string; italic?: boolean }

/** Numbers with at most one decimal, so the output does not depend on floating-point noise. */
const n = (v: number): string => String(Math.round(v * 10) / 10);

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** How wide `text` is at `size` px in the monospace font. */
export function textWidth(text: string, size: number): number {
  return [...text].length * size * CHAR_EM;
}

export class Svg {
  private readonly parts: string[] = [];

  rect(x: number, y: number, w: number, h: number, s: BoxStyle = {}): this {
    this.parts.push(`<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" rx="${n(s.rx ?? 4)}" fill="${s.fill ?? 'none'}" stroke="${s.stroke ?? COLOURS.line}"`
      + ` stroke-width="${n(s.strokeWidth ?? 1)}"${s.dash ? ' stroke-dasharray="5 3"' : ''}/>`);
    return this;
  }

  /** One line of text; `y` is its baseline. */
  text(x: number, y: number, text: string, s: TextStyle = {}): this {
    const attrs = [`x="${n(x)}"`, `y="${n(y)}"`, `font-size="${n(s.size ?? 13)}"`];
    if (s.anchor && s.anchor !== 'start') attrs.push(`text-anchor="${s.anchor}"`);
    if (s.bold) attrs.push('font-weight="bold"');
    if (s.italic) attrs.push('font-style="italic"');
    attrs.push(`fill="${s.fill ?? COLOURS.ink}"`);
    this.parts.push(`<text ${attrs.join(' ')}>${escapeXml(text)}</text>`);
    return this;
  }

  /** Text on a white patch, so lines under it do not cross it. */
  label(x: number, y: number, text: string, s: TextStyle = {}): this {
    const size = s.size ?? 13;
    const w = textWidth(text, size);
    const left = s.anchor === 'middle' ? x - w / 2 : s.anchor === 'end' ? x - w : x;
    this.rect(left - 3, y - size, w + 6, size * 1.35, { fill: '#ffffff', stroke: 'none', rx: 2 });
    return this.text(x, y, text, s);
  }

  /** A box with lines of text in it, `pad` px from its left edge, the first line bold when `title`. */
  box(x: number, y: number, w: number, h: number, lines: string[], s: BoxStyle & { size?: number; title?: boolean; centre?: boolean } = {}): this {
    this.rect(x, y, w, h, s);
    const size = s.size ?? 13;
    const lineH = size * 1.35;
    const top = y + (h - lineH * lines.length) / 2 + size;
    lines.forEach((l, i) => this.text(s.centre ? x + w / 2 : x + 8, top + i * lineH, l, { size, bold: s.title === true && i === 0, ...(s.centre ? { anchor: 'middle' as const } : {}) }));
    return this;
  }

  line(x1: number, y1: number, x2: number, y2: number, s: { stroke?: string; dash?: boolean; arrow?: boolean; width?: number } = {}): this {
    this.parts.push(`<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${s.stroke ?? COLOURS.line}" stroke-width="${n(s.width ?? 1.5)}"`
      + `${s.dash ? ' stroke-dasharray="5 3"' : ''}${s.arrow ? ' marker-end="url(#arrow)"' : ''}/>`);
    return this;
  }

  /** A polyline through the points, optionally ending in an arrow head. */
  path(points: [number, number][], s: { stroke?: string; dash?: boolean; arrow?: boolean; width?: number } = {}): this {
    const d = points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${n(x)} ${n(y)}`).join(' ');
    this.parts.push(`<path d="${d}" fill="none" stroke="${s.stroke ?? COLOURS.line}" stroke-width="${n(s.width ?? 1.5)}"`
      + `${s.dash ? ' stroke-dasharray="5 3"' : ''}${s.arrow ? ' marker-end="url(#arrow)"' : ''}/>`);
    return this;
  }

  /** The document: a title (read by screen readers and shown as a tooltip), a white background. */
  render(width: number, height: number, title: string): string {
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${n(width)}" height="${n(height)}" viewBox="0 0 ${n(width)} ${n(height)}" font-family="${escapeXml(FONT)}">`,
      `<title>${escapeXml(title)}</title>`,
      '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        + `<path d="M0 0 L10 5 L0 10 z" fill="${COLOURS.muted}"/></marker></defs>`,
      `<rect width="100%" height="100%" fill="#ffffff"/>`,
      ...this.parts,
      '</svg>',
      '',
    ].join('\n');
  }
}
