// The build's checks of the startup snapshot against manifest.ts, as pure functions of esbuild's
// metafile: scripts/bundle.mjs compiles this file in memory and fails the build on any problem; the
// unit tests feed it metafiles of their own. Never part of a bundle tsrun runs.
import { STARTUP, commandModule } from './manifest.js';

export { STARTUP, commandModule };

export type Manifest = typeof STARTUP;

/** The part of esbuild's metafile the checks read. */
export interface SnapshotMetafile {
  inputs: Record<string, { imports?: { path: string; external?: boolean; kind?: string }[] }>;
  outputs: Record<string, { bytes: number }>;
}

/** Every repo path the manifest names: each must exist (a renamed file must not silently drop a check). */
export function namedPaths(m: Manifest = STARTUP): string[] {
  return [
    m.snapshotEntry, m.fullEntry, m.plainEntry, ...m.preloaded, ...m.lazy, ...m.allowedInExcluded,
    ...m.snapshotCommands.map(commandModule), ...m.excluded.filter((p) => p.startsWith('src/')),
  ];
}

/** True if the manifest keeps `input` (a metafile path) out of the snapshot. */
export function isExcluded(input: string, m: Manifest = STARTUP): boolean {
  if ((m.allowedInExcluded as readonly string[]).includes(input)) return false;
  return m.excluded.some((x) => (x.endsWith('/') ? input.startsWith(x) : input === x));
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/** What is wrong with a snapshot build (empty: nothing). */
export function snapshotProblems(meta: SnapshotMetafile, m: Manifest = STARTUP): string[] {
  const problems: string[] = [];
  const inputs = Object.keys(meta.inputs);
  const heavy = inputs.filter((p) => isExcluded(p, m));
  if (heavy.length) problems.push(`the startup snapshot must not contain ${heavy.join(', ')} (manifest: excluded): import it lazily from the hot path, or list its importer as lazy`);
  const importsOf = (file: string): string[] => (meta.inputs[file]?.imports ?? []).filter((i) => !i.external).map((i) => i.path);
  const commands = m.snapshotCommands.map(commandModule);
  if (!sameSet(importsOf('src/startup/hot-table.ts'), commands)) {
    problems.push(`src/startup/hot-table.ts imports ${importsOf('src/startup/hot-table.ts').join(', ') || 'nothing'}; the manifest's snapshotCommands are ${commands.join(', ')}`);
  }
  if (!sameSet(importsOf('src/startup/preload.ts'), m.preloaded)) {
    problems.push(`src/startup/preload.ts imports ${importsOf('src/startup/preload.ts').join(', ') || 'nothing'}; the manifest's preloaded are ${m.preloaded.join(', ')}`);
  }
  const stray = inputs.filter((p) => p.startsWith('src/cli/commands/') && !commands.includes(p));
  if (stray.length) problems.push(`the startup snapshot holds command modules the manifest does not list: ${stray.join(', ')}`);
  const lazyInside = inputs.filter((p) => (m.lazy as readonly string[]).includes(p));
  if (lazyInside.length) problems.push(`the startup snapshot holds modules the manifest says are lazy (not stubbed): ${lazyInside.join(', ')}`);
  // A module outside the bundle (a node: builtin) reached through import() fails in the snapshot at
  // run time (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING: a deserialized context has no import callback).
  const dynamicExternal = inputs.flatMap((file) => (meta.inputs[file]?.imports ?? [])
    .filter((i) => i.external && i.kind === 'dynamic-import').map((i) => `${file} → import('${i.path}')`));
  if (dynamicExternal.length) problems.push(`the startup snapshot cannot import() modules outside it at run time: ${dynamicExternal.join(', ')} (import it statically)`);
  const bytes = Object.values(meta.outputs)[0]?.bytes ?? 0;
  if (bytes > m.maxSnapshotCodeBytes) problems.push(`the startup snapshot's code is ${bytes} bytes, over its budget of ${m.maxSnapshotCodeBytes} (manifest: maxSnapshotCodeBytes): keep cold code out of the hot commands`);
  return problems;
}

/**
 * What is wrong with the Node modules a built snapshot holds: `loaded` is process.moduleLoadList
 * ("NativeModule child_process", "Internal Binding fs", …) as the build left it.
 */
export function builtinProblems(loaded: readonly string[], m: Manifest = STARTUP): string[] {
  const held = loaded.map((l) => /^NativeModule (.+)$/.exec(l)?.[1]).filter((n): n is string => n !== undefined && (m.excludedBuiltins as readonly string[]).includes(n));
  return held.length ? [`the startup snapshot's heap holds Node's ${held.join(', ')} (manifest: excludedBuiltins): a module it loads imports one at its top; load it where it is used, with process.getBuiltinModule`] : [];
}
