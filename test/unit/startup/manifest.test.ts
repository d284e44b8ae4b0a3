// src/startup/manifest.ts and the build's checks of the snapshot against it (snapshot-rules.ts, run
// by scripts/bundle.mjs): every file it names exists, the hot table serves exactly its commands, and
// each rule catches what it is for, on metafiles made here.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hotTable } from '../../../src/startup/hot-table.js';
import run from '../../../src/cli/commands/run.js';
import type { ParsedArgs } from '../../../src/cli/command.js';
import { STARTUP, builtinProblems, commandModule, isExcluded, namedPaths, snapshotProblems, type SnapshotMetafile } from '../../../src/startup/snapshot-rules.js';
import { REPO } from '../../helpers/bundle.js';

/** A metafile of a snapshot that agrees with the manifest, plus `extra` inputs. */
function metafile(extra: string[] = [], bytes = 1000): SnapshotMetafile {
  const inputs: SnapshotMetafile['inputs'] = {
    'src/startup/hot-table.ts': { imports: STARTUP.snapshotCommands.map((c) => ({ path: commandModule(c) })) },
    'src/startup/preload.ts': { imports: STARTUP.preloaded.map((p) => ({ path: p })) },
  };
  for (const c of STARTUP.snapshotCommands) inputs[commandModule(c)] = {};
  for (const p of extra) inputs[p] = {};
  return { inputs, outputs: { 'dist/snapshot/tsrun.cjs': { bytes } } };
}

describe('the startup manifest', () => {
  it('names only files that exist', () => {
    expect(namedPaths().filter((p) => !existsSync(join(REPO, p)))).toEqual([]);
  });

  it('lists the commands the hot table serves, in its order', () => {
    expect(hotTable.map((e) => e.name)).toEqual([...STARTUP.snapshotCommands]);
  });

  it('keeps lazy modules and heavy folders out, except what it allows by name', () => {
    for (const p of ['src/check/index.ts', 'src/image/registry/pull.ts', 'src/image/layer-unpack.ts', 'node_modules/yargs/index.mjs']) expect(isExcluded(p), p).toBe(true);
    for (const p of ['src/image/registry/reference.ts', 'src/image/index.ts', 'src/container/run.ts']) expect(isExcluded(p), p).toBe(false);
  });
});

describe('cold code the hot commands never run as root', () => {
  // --dry-run prints the plan (cli/explain-output.ts, with the plan summary and the seccomp
  // disassembler): ~14 KB of code every start deserialized. It runs from the full bundle now.
  it('keeps --dry-run\'s explain code out of the snapshot, and sends run --dry-run to the full bundle', () => {
    for (const p of ['src/cli/explain-output.ts', 'src/plan/summary.ts', 'src/seccomp/disasm.ts']) expect(isExcluded(p), p).toBe(true);
    expect(STARTUP.lazy).toContain('src/cli/explain-output.ts');
    const args = (extra: Record<string, unknown>) => ({ command: [], keepUpper: false, dryRun: false, systemdCgroup: false, _: [], ...extra }) as unknown as ParsedArgs<never>;
    expect(run.needsFullBundle!(args({ dryRun: true }))).toBe(true);
    expect(run.needsFullBundle!(args({}))).toBe(false);
  });
});

describe('Node\'s own modules in the snapshot', () => {
  // ps's static import of node:child_process (ff7ab1c) loaded child_process, net, dgram and their
  // bindings while the snapshot was built: ~300 KB more heap for every start to deserialize.
  it('keeps child_process, net and dgram out of the heap, and names what crept in', () => {
    for (const b of ['child_process', 'net', 'dgram']) expect(STARTUP.excludedBuiltins, b).toContain(b);
    // What the globals crypto and performance load on first use (the warm-up used both: ~260 KB of blob).
    for (const b of ['internal/crypto/webcrypto', 'perf_hooks']) expect(STARTUP.excludedBuiltins, b).toContain(b);
    const loaded = ['Internal Binding fs', 'NativeModule fs', 'NativeModule path', 'NativeModule internal/child_process'];
    expect(builtinProblems(loaded)).toEqual([]);
    expect(builtinProblems([...loaded, 'NativeModule child_process', 'NativeModule net']).join()).toMatch(/heap holds Node's child_process, net \(manifest: excludedBuiltins\)/);
  });
});

describe('the build\'s checks of the snapshot', () => {
  it('pass a snapshot that agrees with the manifest', () => {
    expect(snapshotProblems(metafile(['src/container/run.ts', 'src/image/registry/reference.ts']))).toEqual([]);
  });

  it('name an excluded module that crept in', () => {
    expect(snapshotProblems(metafile(['src/image/tar-parser.ts', 'node_modules/fzstd/esm/index.mjs'])).join()).toMatch(/must not contain src\/image\/tar-parser\.ts, node_modules\/fzstd\/esm\/index\.mjs/);
  });

  it('catch a hot table, a preload or a command module that differs from the manifest', () => {
    const m = metafile(['src/cli/commands/image.ts']);
    m.inputs['src/startup/hot-table.ts']!.imports!.pop();
    m.inputs['src/startup/preload.ts']!.imports!.push({ path: 'src/container/events.ts' });
    const problems = snapshotProblems(m).join('\n');
    expect(problems).toMatch(/hot-table\.ts imports .*snapshotCommands are/);
    expect(problems).toMatch(/preload\.ts imports .*src\/container\/events\.ts.*preloaded are/);
    expect(problems).toMatch(/command modules the manifest does not list: src\/cli\/commands\/image\.ts/);
  });

  it('catch an import() of a node: builtin, which a snapshot cannot load at run time', () => {
    const m = metafile();
    m.inputs['src/cli/commands/ps.ts'] = { imports: [{ path: 'node:child_process', external: true, kind: 'dynamic-import' }] };
    expect(snapshotProblems(m).join()).toMatch(/cannot import\(\) modules outside it at run time: src\/cli\/commands\/ps\.ts → import\('node:child_process'\)/);
    m.inputs['src/cli/commands/ps.ts'] = { imports: [{ path: 'node:child_process', external: true, kind: 'import-statement' }] };
    expect(snapshotProblems(m)).toEqual([]);
  });

  it('catch a lazy module that was not stubbed, and a snapshot over its budget', () => {
    expect(snapshotProblems(metafile(['src/cli/help.ts'])).join()).toMatch(/lazy \(not stubbed\): src\/cli\/help\.ts/);
    expect(snapshotProblems(metafile([], STARTUP.maxSnapshotCodeBytes + 1)).join()).toMatch(/over its budget/);
  });
});
