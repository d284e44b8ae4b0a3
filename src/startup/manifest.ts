// What tsrun's V8 startup snapshot holds and what stays out of it, as data. scripts/bundle.mjs builds
// the three bundles from the entries named here and fails the build when the snapshot disagrees with
// this manifest (a file named here that does not exist included). Why a snapshot, and why a small
// one: snapshot-main.ts. How bin/tsrun chooses between the snapshot and the plain bundle:
// native-bindings/launcher.c (and README, "Fast start").
//
// Kept free of imports: the bundler reads it before anything else is built.

export const STARTUP = {
  /** bin/tsrun's first choice: dist/tsrun.blob, built from this entry (its main function routes argv). */
  snapshotEntry: 'src/startup/snapshot-main.ts',
  /** The whole CLI as one CommonJS file, dist/snapshot/full.cjs, which the snapshot require()s for what it leaves out. */
  fullEntry: 'src/startup/full-entry.ts',
  /** `node dist/tsrun.js`: the plain ESM bundle, each command in its own chunk (no snapshot usable). */
  plainEntry: 'src/startup/main.ts',

  /** Commands the snapshot serves itself (src/startup/hot-table.ts imports exactly their modules). */
  snapshotCommands: ['run', 'create', 'start', 'state', 'kill', 'delete', 'exec', 'ps', 'pause', 'resume', 'list', 'features', 'spec'],

  /**
   * Library modules the hot commands import lazily, loaded up front in the snapshot so that their
   * module code has run at build time (src/startup/preload.ts imports exactly these).
   */
  preloaded: [
    'src/container/run.ts', 'src/container/create.ts', 'src/container/start.ts', 'src/container/state.ts', 'src/container/kill.ts',
    'src/container/delete.ts', 'src/container/exec.ts', 'src/container/ps.ts', 'src/container/pause.ts', 'src/container/image-bundle.ts',
  ],

  /**
   * Modules the snapshot's code reaches only through import(), for work it hands to the full bundle
   * (help; an image to import or pull first; `image` subcommands). In the snapshot each is a stub that
   * throws if it is ever loaded; the plain and full bundles have them.
   */
  lazy: [
    'src/cli/help.ts', 'src/cli/pull.ts',
    'src/image/import.ts', 'src/image/manage.ts', 'src/image/registry/pull.ts', 'src/image/registry/progress.ts',
    'src/cgroups/systemd/index.ts',
    // --network bridge, -p, and the delete of a container on a CNI network run from the full bundle
    // (their commands' needsFullBundle): the CNI code stays out of every other start. --network
    // none|host|ns:PATH only rewrites the spec (options.ts), in the snapshot.
    'src/network/phase.ts', 'src/network/explain.ts',
    // run --dry-run prints the plan (run's needsFullBundle): its formatting, the plan summary and the
    // seccomp disassembler were ~14 KB of the snapshot that no container start runs.
    'src/cli/explain-output.ts',
    // The library's warm inits (create gets one only from src/api): never the CLI's.
    'src/container/create/warm.ts',
  ],

  /**
   * Never in the snapshot: every start would pay for deserializing them. Files, folders (ending in
   * `/`) and packages. `allowedInExcluded` names the files of an excluded folder that may be in it.
   */
  excluded: [
    'src/check/', 'src/image/registry/', 'src/cgroups/systemd/', 'src/network/',
    'src/image/import.ts', 'src/image/manage.ts', 'src/image/layer-store.ts', 'src/image/layer-unpack.ts', 'src/image/tar-parser.ts',
    'src/image/zstd.ts', 'src/image/decompress.ts', 'src/image/oci-layout.ts', 'src/image/docker-archive.ts', 'src/image/flatten.ts',
    'src/image/hash-worker.ts', 'src/image/digest.ts', 'src/image/owner-shift.ts',
    'src/cli/explain-output.ts', 'src/plan/summary.ts', 'src/seccomp/disasm.ts',
    'node_modules/yargs/', 'node_modules/tar-stream/', 'node_modules/fzstd/', 'node_modules/execa/',
  ],
  allowedInExcluded: ['src/image/registry/reference.ts', 'src/network/record.ts', 'src/network/options.ts'],

  /**
   * Node's own modules the snapshot's heap must not hold (what process.moduleLoadList lists once it
   * is built). A module-level import of node:child_process loads it with net, dgram and their
   * bindings: ~230 KB more blob that every start deserializes. Code that needs one loads it when it
   * runs, with process.getBuiltinModule (a snapshot cannot import() a builtin). The globals load
   * theirs on first use, so the warm-up must not touch them: `crypto` (internal/crypto/webcrypto and
   * its helpers, ~180 KB; host/random.ts reads /dev/urandom) and `performance` (perf_hooks, ~80 KB;
   * host/clock.ts uses process.hrtime).
   */
  excludedBuiltins: [
    'child_process', 'net', 'dgram', 'worker_threads', 'crypto', 'zlib', 'http', 'https', 'tls',
    'internal/crypto/webcrypto', 'perf_hooks',
  ],

  /** The snapshot's code, at most (its cost grows with its size: ~4 ms per MB of heap here). */
  // 310.8 KiB (318,272 bytes) once --dry-run's explain code went to the full bundle, plus ~8 KiB for
  // the hot code to come: a change that needs more should first look for cold code to move out.
  // Code never run at build costs the heap little more than its source (~1.25 bytes of blob a byte:
  // 14 KB of explain code out, 17.5 KB of blob less); the code the warm-up runs, or a Node module
  // loaded at its top (excludedBuiltins), costs far more.
  maxSnapshotCodeBytes: 319 * 1024,
} as const;

/** The module of command `name` (one file per command). */
export const commandModule = (name: string): string => `src/cli/commands/${name}.ts`;
