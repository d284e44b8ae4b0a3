// Where tsrun is installed: native-bindings/ and node_modules/ are found from here. The launcher
// (bin/tsrun) passes it in TSRUN_PACKAGE_ROOT, which is what a V8 startup snapshot must use: its
// code carries no trustworthy file location of its own.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  const fromLauncher = process.env.TSRUN_PACKAGE_ROOT;
  if (fromLauncher) return (root = resolve(fromLauncher));
  // dist/tsrun.js, dist/chunks/*.js or src/**/*.ts (tests): the first parent with our package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5 && !existsSync(join(dir, 'native-bindings')); i++) dir = dirname(dir);
  return (root = dir);
}
