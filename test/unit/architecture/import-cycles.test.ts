// No file of src/ reaches itself through its runtime imports (dynamic import() included): a cycle
// ties modules that must then load, change and be bundled together (container/hooks.ts and
// host-hook.ts once formed one only so that host-hook could load lazily).
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph } from './import-graph.js';

describe('the import graph of src/', () => {
  it('has no cycles', async () => {
    const graph = await importGraph();
    expect(graph.get('src/container/hooks.ts')?.length).toBeGreaterThan(0); // the graph is real
    expect(importCycles(graph)).toEqual([]);
  });
});
