// docs/architecture.md is kept true: every path it names exists, every folder of src/ has its place
// in its table of layers, and no folder imports from a layer above its own (the table is read from
// the page itself, top layer first).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../../helpers/bundle.js';
import { importGraph } from './import-graph.js';

const page = readFileSync(join(REPO, 'docs/architecture.md'), 'utf8');
const ROOTS = /^(src|test|docs|native-bindings|scripts|bench|vm|mk)\/|^Makefile$/;

/** Backticked paths of the repo on the page (placeholders such as NAME.ts left out). */
function namedPaths(): string[] {
  return [...page.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!).filter((p) => ROOTS.test(p) && !/NAME|NN-/.test(p));
}

/** The layer table: for each row, top first, the folders of src/ it names. */
function layers(): string[][] {
  const section = page.slice(page.indexOf('## The folders as layers'), page.indexOf('## A `run`'));
  return section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| layer') && !l.startsWith('|---'))
    .map((row) => [...(row.split('|')[2] ?? '').matchAll(/`src\/([^/`]+)\/`/g)].map((m) => m[1]!));
}

const folderOf = (file: string): string | undefined => file.split('/').length > 2 ? file.split('/')[1] : undefined;

describe('docs/architecture.md', () => {
  it('names only paths that exist', () => {
    const paths = namedPaths();
    expect(paths.length).toBeGreaterThan(30);
    expect(paths.filter((p) => !existsSync(join(REPO, p)))).toEqual([]);
  });

  it('places every folder of src/ in its table of layers', () => {
    const placed = layers().flat();
    const folders = readdirSync(join(REPO, 'src')).filter((e) => statSync(join(REPO, 'src', e)).isDirectory());
    expect(folders.filter((f) => !placed.includes(f))).toEqual([]);
  });

  it('no folder imports from a layer above its own', async () => {
    const rank = new Map<string, number>();
    layers().forEach((row, i) => row.forEach((f) => rank.set(f, i))); // 0 = the top layer
    const upward: string[] = [];
    for (const [file, edges] of await importGraph()) {
      const from = folderOf(file);
      if (from === undefined) continue;
      for (const e of edges) {
        const to = folderOf(e.to);
        if (to !== undefined && rank.get(to)! < rank.get(from)!) upward.push(`${file} -> ${e.to}`);
      }
    }
    expect(upward).toEqual([]);
  });
});
