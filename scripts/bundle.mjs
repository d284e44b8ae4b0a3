// Bundles the CLI into dist/ so a `tsrun` start loads pre-compiled JavaScript only. Code splitting
// keeps each command in its own chunk: `tsrun run` never parses the code of `image` or `--help`.
// koffi stays external: it loads its native addon from a path computed at run time.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { tsrun: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  external: ['koffi'],
  chunkNames: 'chunks/[name]-[hash]',
  // Some CommonJS dependencies call require(); give the ESM chunks one.
  banner: { js: "import { createRequire as __tsrunCreateRequire } from 'node:module'; const require = __tsrunCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
