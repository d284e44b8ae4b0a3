// The one place koffi is loaded, lazily: a command that never calls native code pays nothing.
//
// koffi's JavaScript entry spends 4-6 ms (measured here) before the first native call: it resolves
// its platform package through package.json "exports", reads node's ELF header to tell glibc from
// musl, then wraps a few deprecated functions. None of that changes between two runs of one install,
// so `make build` resolves it once (scripts/bundle.mjs finds the addon koffi itself loads) and the
// bundle carries that path: here the addon is opened with process.dlopen, which is what require()
// does for a .node file, in under 1 ms. It is still koffi, the same binary and the same API
// (without the deprecated aliases tsrun never uses). Whenever that shortcut cannot be trusted (no
// recorded path, as under vitest; the file gone; another version) the package's own entry is used.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';

type Koffi = typeof import('koffi');

/** Set by scripts/bundle.mjs (esbuild `define`): the koffi addon, relative to the package root. */
declare const TSRUN_KOFFI_ADDON: { path: string; version: string } | undefined;

let loaded: Koffi | undefined;

export function loadKoffi(): Koffi {
  loaded ??= loadRecordedAddon() ?? (createRequire(join(packageRoot(), 'package.json'))('koffi') as Koffi);
  return loaded;
}

function loadRecordedAddon(): Koffi | undefined {
  if (typeof TSRUN_KOFFI_ADDON === 'undefined' || !TSRUN_KOFFI_ADDON) return undefined;
  const mod: { exports: Partial<Koffi> } = { exports: {} };
  try {
    process.dlopen(mod, join(packageRoot(), TSRUN_KOFFI_ADDON.path));
  } catch {
    return undefined;
  }
  return mod.exports.version === TSRUN_KOFFI_ADDON.version ? (mod.exports as Koffi) : undefined;
}

type Library = ReturnType<Koffi['load']>;

/**
 * Functions of a loaded library, each declared on first use: koffi parses a prototype in ~20 us, and
 * a command usually calls only a few of the functions a binding lists.
 */
export function lazyFunctions<T extends object>(lib: Library, prototypes: Record<keyof T, string>): T {
  const fns = {} as T;
  for (const [name, prototype] of Object.entries(prototypes) as [string, string][]) {
    Object.defineProperty(fns, name, {
      configurable: true,
      get() {
        const fn: unknown = lib.func(prototype);
        Object.defineProperty(fns, name, { value: fn });
        return fn;
      },
    });
  }
  return fns;
}
