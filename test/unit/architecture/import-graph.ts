// The runtime import graph of src/ as the bundler sees it (esbuild's metafile: type-only imports are
// gone, import() calls are there), for the architecture tests.
import { build } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../helpers/bundle.js';

export function sourceFiles(dir = 'src'): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(join(REPO, d))) {
      const p = join(d, e);
      if (statSync(join(REPO, p)).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

export interface ImportEdge { to: string; dynamic: boolean }

/** Every file of src/ with the files of the repo it imports at run time (packages and node: left out). */
export async function importGraph(): Promise<Map<string, ImportEdge[]>> {
  const result = await build({
    absWorkingDir: REPO, entryPoints: sourceFiles(), bundle: true, write: false, metafile: true, outdir: 'out', format: 'esm', splitting: true,
    platform: 'node', packages: 'external', logLevel: 'silent', define: { TSRUN_KOFFI_ADDON: '{"path":"","version":""}' },
  });
  const graph = new Map<string, ImportEdge[]>();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    graph.set(file, input.imports.filter((i) => !i.external && i.path.startsWith('src/')).map((i) => ({ to: i.path, dynamic: i.kind === 'dynamic-import' })));
  }
  return graph;
}

/** Strongly connected groups of more than one file: import cycles. */
export function importCycles(graph: Map<string, ImportEdge[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const { to: w } of graph.get(v) ?? []) {
      if (w === v || !graph.has(w)) continue;
      if (!index.has(w)) { connect(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); group.push(w); } while (w !== v);
      if (group.length > 1) cycles.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return cycles;
}
