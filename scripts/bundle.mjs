// Builds dist/: the ESM bundle (code-split: each command in its own chunk) that `node dist/tsrun.js`
// runs, and the V8 startup snapshot dist/tsrun.blob that bin/tsrun prefers (same code, ~20 ms less
// start-up) with dist/tsrun.blob.key, what bin/tsrun checks before it uses the snapshot. koffi stays
// external: it loads its native addon from a path computed at run time. What goes into the snapshot
// is src/startup/manifest.ts's to say; this script checks the snapshot against it.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const { STARTUP, namedPaths, snapshotProblems, builtinProblems } = await startupRules();
const missing = namedPaths().filter((p) => !existsSync(p));
if (missing.length) throw new Error(`bundle: src/startup/manifest.ts names what does not exist: ${missing.join(', ')}`);
rmSync('dist', { recursive: true, force: true });

/** src/startup/snapshot-rules.ts with the manifest (TypeScript), compiled in memory and imported. */
async function startupRules() {
  const out = await build({ entryPoints: ['src/startup/snapshot-rules.ts'], bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'warning' });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
}

const common = {
  bundle: true, platform: 'node', target: 'node20', external: ['koffi'], logLevel: 'warning',
  define: { TSRUN_KOFFI_ADDON: JSON.stringify(koffiAddon()) },
};

// The native addon koffi's own entry loads on this machine, relative to the package root, and its
// version: src/native/koffi.ts opens it directly (its entry's resolution costs 4-6 ms per command).
function koffiAddon() {
  const req = createRequire(join(process.cwd(), 'package.json'));
  const koffi = req('koffi');
  const addon = Object.keys(req.cache).find((p) => p.endsWith('.node') && req.cache[p].exports?.version === koffi.version);
  if (!addon) throw new Error('bundle: cannot find the native addon koffi loaded');
  return { path: relative(process.cwd(), addon), version: koffi.version };
}
await build({
  ...common,
  entryPoints: { tsrun: STARTUP.plainEntry },
  outdir: 'dist',
  splitting: true,
  format: 'esm',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  // Some CommonJS dependencies call require(); give the ESM chunks one.
  banner: { js: "import { createRequire as __tsrunCreateRequire } from 'node:module'; const require = __tsrunCreateRequire(import.meta.url);" },
});
// The library (src/api, issue 15): one ESM file, what package.json's exports name, and its type
// declarations (tsconfig.api.json). It must not carry the CLI: its parser, yargs, its printing.
const lib = await build({
  ...common,
  entryPoints: { index: 'src/api/index.ts' },
  outdir: 'dist/api',
  format: 'esm',
  sourcemap: 'linked',
  metafile: true,
  banner: { js: "import { createRequire as __tsrunCreateRequire } from 'node:module'; const require = __tsrunCreateRequire(import.meta.url);" },
});
const cliInLib = Object.keys(lib.metafile.inputs).filter((p) => /^src[/\\]cli[/\\]|node_modules[/\\]yargs/.test(p));
if (cliInLib.length) throw new Error(`bundle: the library (dist/api/index.js) must not contain ${cliInLib.join(', ')}: src/api/ imports the CLI`);
execFileSync(process.execPath, [join(dirname(createRequire(join(process.cwd(), 'package.json')).resolve('typescript/package.json')), 'bin', 'tsc'), '-p', 'tsconfig.api.json'], { stdio: 'inherit' });

// The startup snapshot is built from one CommonJS file (a snapshot cannot load ES modules) holding
// only the hot commands (the manifest's snapshotCommands); everything else runs from full.cjs, the
// whole CLI as one CommonJS file that the snapshot require()s (src/startup/snapshot-main.ts says why). Neither has a
// reliable location of its own: bin/tsrun passes the package root in TSRUN_PACKAGE_ROOT.
const cjs = {
  ...common,
  format: 'cjs',
  define: { ...common.define, 'import.meta.url': '"file:///tsrun-snapshot/"' },
  logOverride: { 'empty-import-meta': 'silent' },
};
await build({ ...cjs, entryPoints: [STARTUP.fullEntry], outfile: 'dist/snapshot/full.cjs' });

// The manifest's `lazy` modules: in the snapshot, a module that says so if it is ever loaded, matched
// by the file an import resolves to (not by its name: a new help.ts elsewhere is not stubbed by accident).
const lazy = new Set(STARTUP.lazy.map((p) => resolve(p)));
const outsideSnapshot = {
  name: 'outside-snapshot',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (a) => {
      const file = resolve(a.resolveDir, a.path.replace(/\.js$/, '.ts'));
      // A path relative to the checkout: esbuild names the module by it in the output, and an
      // absolute one made the snapshot's size (and its budget check) depend on where the clone is.
      return lazy.has(file) ? { path: relative(process.cwd(), file), namespace: 'outside-snapshot' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'outside-snapshot' }, (a) => ({
      contents: `throw new Error(${JSON.stringify(`${a.path} is not in the startup snapshot: bin/tsrun runs such commands from dist/snapshot/full.cjs (src/startup/manifest.ts)`)});`,
      loader: 'js',
    }));
  },
};
// Whitespace and syntax minified (names kept, so stack traces still name functions): V8 keeps the
// source in the heap, and every start deserializes it (~4 ms per MB measured here).
const snapshot = await build({
  ...cjs, entryPoints: [STARTUP.snapshotEntry], outfile: 'dist/snapshot/tsrun.cjs', plugins: [outsideSnapshot], metafile: true,
  minifyWhitespace: true, minifySyntax: true,
});
const problems = snapshotProblems(snapshot.metafile);
// The same sources give the same snapshot in any checkout: CI builds in another directory than ours.
if (readFileSync('dist/snapshot/tsrun.cjs', 'utf8').includes(process.cwd())) problems.push(`dist/snapshot/tsrun.cjs contains the checkout's path ${process.cwd()}: its size would depend on where the clone is`);
if (problems.length) throw new Error(`bundle: ${problems.join('; ')}`);
// V8 keeps a script's source in the heap, as UTF-16 when it has one non-ASCII character: twice the
// bytes to deserialize at every start. esbuild escapes strings; a comment it keeps could still do it.
const nonAscii = readFileSync('dist/snapshot/tsrun.cjs', 'latin1').search(/[^\x00-\x7f]/);
if (nonAscii >= 0) throw new Error(`bundle: dist/snapshot/tsrun.cjs has a non-ASCII character at offset ${nonAscii} (a comment?): V8 would store the whole source as UTF-16`);
// --no-warnings: building prints notices that some built-in modules are "not yet fully verified" in
// snapshots, and printing them makes Node create process.stderr, whose stream (net.Socket when stderr
// is a pipe) and helpers then sit in the snapshot: 4.83 MB instead of 4.65, and every command started
// ~0.7 ms later (A/B, 60 alternating runs). Errors still print, and the blob no longer depends on what
// the build's stderr is. Without NODE_OPTIONS: a V8 option in it would be part of the blob's V8
// configuration tag, and node would refuse the blob in every command run without it (bin/tsrun uses
// the snapshot only then).
const { NODE_OPTIONS: _ignored, ...env } = process.env;
execFileSync(process.execPath, ['--no-warnings', '--snapshot-blob', 'dist/tsrun.blob', '--build-snapshot', 'dist/snapshot/tsrun.cjs'], { stdio: 'inherit', env });

// Which of Node's own modules the snapshot's heap holds (the metafile cannot tell: an import at the
// top of a module loads its builtin only if the build runs that module). Asked of a second, throwaway
// build of the same code, which lists process.moduleLoadList just before it is serialized: the
// shipped blob carries nothing of the check.
const probeDir = mkdtempSync(join(tmpdir(), 'tsrun-snapshot-probe-'));
try {
  const list = join(probeDir, 'modules.txt');
  writeFileSync(join(probeDir, 'probe.cjs'), `${readFileSync('dist/snapshot/tsrun.cjs', 'utf8')}
;require('node:v8').startupSnapshot.addSerializeCallback(() => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));
`);
  execFileSync(process.execPath, ['--no-warnings', '--snapshot-blob', join(probeDir, 'probe.blob'), '--build-snapshot', join(probeDir, 'probe.cjs')], { stdio: 'inherit', env });
  const held = builtinProblems(readFileSync(list, 'utf8').split('\n'));
  if (held.length) throw new Error(`bundle: ${held.join('; ')}`);
} finally {
  rmSync(probeDir, { recursive: true, force: true });
}

// The snapshot's key: this node's identity, the CPU words V8 derives its features from, the blob's
// size. bin/tsrun computes the same key with the same code (native-bindings/launcher.c, built as
// this tool) before every start and runs the plain bundle when they differ: node refuses a snapshot
// made for another node or CPU, and tsrun would not start at all.
const keyTool = 'native-bindings/build/tsrun-snapshot-key';
if (!existsSync(keyTool)) throw new Error(`bundle: ${keyTool} is missing: \`make build\` builds it from native-bindings/launcher.c`);
writeFileSync('dist/tsrun.blob.key', execFileSync(keyTool, [process.execPath, 'dist/tsrun.blob']));
