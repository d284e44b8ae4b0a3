// The one place koffi is loaded. Lazily, through its CommonJS entry: that takes ~4.7 ms where the ESM
// entry takes 8.5-12 ms (measured here), and a command that never calls native code pays nothing.
// createRequire also works from a V8 startup snapshot, where a bundled require() cannot load addons.
import { createRequire } from 'node:module';

type Koffi = typeof import('koffi');
let loaded: Koffi | undefined;

export function loadKoffi(): Koffi {
  loaded ??= createRequire(import.meta.url)('koffi') as Koffi;
  return loaded;
}
