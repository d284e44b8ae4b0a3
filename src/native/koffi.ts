// The one place koffi is loaded. Lazily, through its CommonJS entry: that takes ~4.7 ms where the ESM
// entry takes 8.5-12 ms (measured here), and a command that never calls native code pays nothing.
// createRequire also works from a V8 startup snapshot, where a bundled require() cannot load addons.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';

type Koffi = typeof import('koffi');
let loaded: Koffi | undefined;

export function loadKoffi(): Koffi {
  loaded ??= createRequire(join(packageRoot(), 'package.json'))('koffi') as Koffi;
  return loaded;
}
