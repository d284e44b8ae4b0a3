// The labs' pictures: the checked-in SVGs are what their data gives today (`make lab-images` rewrites
// them), every picture a lab shows exists, and the overlay picture's merged view follows overlayfs's rules.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LAB_PICTURES, renderLabPictures } from '../../../src/diagram/lab-pictures.js';
import { resolvePath, type OverlayLayer } from '../../../src/diagram/overlay-stack.js';

const LABS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/labs');
const IMG = join(LABS, 'img');

describe('docs/labs/img', () => {
  const data = Object.fromEntries(readdirSync(join(IMG, 'data')).map((f) => [f.replace(/\.json$/, ''), readFileSync(join(IMG, 'data', f), 'utf8')]));
  const rendered = renderLabPictures(data);

  for (const name of Object.keys(LAB_PICTURES)) {
    it(`${name}.svg is up to date with data/${name}.json (if not: make lab-images)`, () => {
      expect(readFileSync(join(IMG, `${name}.svg`), 'utf8')).toBe(rendered[name]);
    });
  }

  it('every picture a lab shows exists, and every picture is shown by a lab', () => {
    const shown = new Set<string>();
    for (const f of readdirSync(LABS).filter((x) => x.endsWith('.md'))) {
      for (const m of readFileSync(join(LABS, f), 'utf8').matchAll(/!\[[^\]]*\]\((img\/[^)]+)\)/g)) {
        expect(existsSync(join(LABS, m[1]!)), `${f}: ${m[1]}`).toBe(true);
        shown.add(m[1]!);
      }
    }
    for (const f of readdirSync(IMG).filter((x) => x.endsWith('.svg'))) expect(shown.has(`img/${f}`), `img/${f} is shown by no lab`).toBe(true);
  });

  it('is well-formed SVG with a title', () => {
    for (const svg of Object.values(rendered)) {
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+(\.\d)?" height="\d+(\.\d)?"/);
      expect(svg).toMatch(/<title>[^<]+<\/title>/);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      // Every opened element is closed (the writer only emits self-closing shapes, text and a few containers).
      for (const tag of ['text', 'defs', 'marker', 'title']) {
        expect((svg.match(new RegExp(`<${tag}[ >]`, 'g')) ?? []).length, tag).toBe((svg.match(new RegExp(`</${tag}>`, 'g')) ?? []).length);
      }
    }
  });
});

describe('resolvePath: overlayfs lookup rules', () => {
  const layers: OverlayLayer[] = [
    { name: 'upper', role: '', entries: { 'd/': { kind: 'dir' }, 'd/u': { kind: 'file' }, 'gone': { kind: 'whiteout' } } },
    { name: 'mid', role: '', entries: { 'd/': { kind: 'dir' }, 'd/f': { kind: 'file' }, 'o/': { kind: 'opaque' }, 'o/new': { kind: 'file' } } },
    { name: 'low', role: '', entries: { 'd/': { kind: 'dir' }, 'd/f': { kind: 'file' }, 'd/l': { kind: 'file' }, 'gone': { kind: 'file' }, 'o/': { kind: 'dir' }, 'o/old': { kind: 'file' } } },
  ];
  it('a file comes from the topmost layer that has it', () => {
    expect(resolvePath(layers, 'd/f')).toMatchObject({ from: 1, layers: [1] });
    expect(resolvePath(layers, 'd/l')).toMatchObject({ from: 2 });
    expect(resolvePath(layers, 'd/u')).toMatchObject({ from: 0 });
  });
  it('a directory in several layers is merged from all of them', () => {
    expect(resolvePath(layers, 'd/')).toMatchObject({ from: 0, layers: [0, 1, 2], why: 'merged: upper, mid, low' });
  });
  it('a whiteout hides the name below; an opaque directory hides what is below it', () => {
    expect(resolvePath(layers, 'gone')).toEqual({ path: 'gone', layers: [], why: 'gone: whiteout in upper' });
    expect(resolvePath(layers, 'o/')).toMatchObject({ from: 1, layers: [1] });
    expect(resolvePath(layers, 'o/old')).toMatchObject({ layers: [], why: 'hidden: its directory is opaque in mid' });
    expect(resolvePath(layers, 'o/new')).toMatchObject({ from: 1 });
  });
});
