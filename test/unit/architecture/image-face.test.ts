// src/image/index.ts is the image library's face: code outside src/image/ imports only it, and it is
// light (what it loads without an import() call is nothing the startup snapshot excludes), so that
// the CLI, container/ and the library API to come can use it on the hot path.
import { describe, expect, it } from 'vitest';
import { isExcluded } from '../../../src/startup/snapshot-rules.js';
import { importGraph } from './import-graph.js';

describe('the image library\'s face', () => {
  it('is the only module of src/image/ that code outside it imports', async () => {
    const graph = await importGraph();
    const crossings = [...graph].flatMap(([from, edges]) => (from.startsWith('src/image/') ? [] : edges
      .filter((e) => e.to.startsWith('src/image/') && e.to !== 'src/image/index.ts').map((e) => `${from} -> ${e.to}`)));
    expect(crossings).toEqual([]);
  });

  it('loads nothing heavy until one of its heavy functions is called', async () => {
    const graph = await importGraph();
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const e of graph.get(file) ?? []) if (!e.dynamic) visit(e.to);
    };
    visit('src/image/index.ts');
    expect([...seen].filter((f) => isExcluded(f))).toEqual([]);
    // …and the heavy parts are behind it, loaded by import().
    expect([...new Set(graph.get('src/image/index.ts')!.filter((e) => e.dynamic).map((e) => e.to))].sort())
      .toEqual(['src/image/import.ts', 'src/image/manage.ts', 'src/image/registry/progress.ts', 'src/image/registry/pull.ts']);
  });
});
