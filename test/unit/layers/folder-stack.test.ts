// The folders of src/ form a stack: a module imports only from its own folder, from the files at the
// top of src/, or from a folder lower in the stack. An arrow back up (a planner importing the
// composer that calls it, the plan importing an operation) is how a layer starts to depend on the
// code built on it; this test names the file and the arrow.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Bottom first. A folder of src/ that is not listed fails the test: place it in the stack. */
export const FOLDER_STACK = [
  'abi',        // Linux's numbers and names; the step vocabulary of tsrun-init
  'oci',        // config.json: types, validation, the bundle
  'host',       // facts read from this machine (mountinfo)
  'native',     // the koffi bindings of the shim, the plan's wire format
  'seccomp',    // linux.seccomp → a BPF filter step
  'cgroups',    // the cgroup v2 driver
  'namespaces', // planner: namespaces to create or join
  'rootfs',     // planner: mounts, devices, pivot_root; the caller's mount table
  'process',    // planner: the privilege drop; and the parent side of the spawn
  'plan',       // the composer: the planners' steps in their named phases
  'state',      // state.json, locks, status
  'image',      // images, layers, registries
  'network',    // --network/-p, CNI networks and the CNI runtime, attach/detach, connect/forwardPort
  'check',      // `tsrun check` (container's stats-missing explains a missing controller with it)
  'container',  // one file per operation
  'api',        // the library for test suites: sessions and their reaper, init, host capabilities
  'diagram',    // pictures of a plan and of a live container (inspect --svg)
  'cli',        // parsing and printing
  'startup',    // how tsrun starts: the snapshot, the bundles' entries, the manifest
] as const;

const src = resolve(__dirname, '../../../src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The top folder of src/ a path lies in, or '' for the files at the top of src/. */
function folderOf(path: string): string {
  const rel = relative(src, path).split('/');
  return rel.length > 1 ? rel[0]! : '';
}

/** Relative specifiers of static imports, re-exports and dynamic import()s. */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?\bfrom\s+'(\.[^']+)'/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)) out.push(m[1]!);
  return out;
}

describe('the folder stack of src/', () => {
  const files = tsFiles(src);

  it('lists every folder of src/', () => {
    const folders = [...new Set(files.map(folderOf).filter((f) => f !== ''))].sort();
    expect(folders.filter((f) => !(FOLDER_STACK as readonly string[]).includes(f))).toEqual([]);
  });

  it('has no import that runs up the stack', () => {
    const rank = (f: string): number => (f === '' ? -1 : FOLDER_STACK.indexOf(f as (typeof FOLDER_STACK)[number]));
    const upward: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const to = folderOf(resolve(dirname(file), spec));
        if (to !== from && rank(to) > rank(from)) upward.push(`${relative(src, file)} → ${spec} (${from || 'src'} below ${to})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('sees the imports it checks (the parser finds a known arrow)', () => {
    const text = readFileSync(join(src, 'plan/container.ts'), 'utf8');
    expect(importsOf(text)).toContain('../rootfs/plan.js');
  });
});
