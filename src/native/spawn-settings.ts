// How tsrun starts the processes it puts in containers, where tests and unusual hosts need another
// way than the default. Process-wide, set by whoever embeds the library — the CLI sets them from the
// environment once, at its edge (src/cli/environment.ts) — so that no code below reads environment
// variables of its own.
export interface SpawnSettings {
  /** The tsrun-init program (default: the package's native-bindings/build/tsrun-init). */
  initProgram?: string;
  /** How tsrun-init is made unwritable: a read-only mount of it (default) or a sealed memfd copy (the fallback, forced). */
  initCopy: 'mount' | 'memfd';
  /** Act as on a kernel without clone3: clone, and the cgroup joined through cgroup.procs. */
  noClone3: boolean;
  /** The native shim library (default: the package's native-bindings/build/libtsrun-shim.so). */
  shimLibrary?: string;
  /** Start every container process through tsrun-init's two stages, also when the plan needs one (the tests compare both shapes). */
  twoStage: boolean;
  /**
   * The library (src/api) keeps one warm init per process: the next container's process, cloned on a
   * worker thread ahead of use (src/process/warm-init.ts). False: every container is cloned when made.
   */
  warm: boolean;
  /** How long a report is waited for on the main thread before the read moves to a worker (0: always the worker; the tests check both). */
  quickReportMs?: number;
}

export const DEFAULT_SPAWN_SETTINGS: Readonly<SpawnSettings> = { initCopy: 'mount', noClone3: false, twoStage: false, warm: true };

let current: Readonly<SpawnSettings> = DEFAULT_SPAWN_SETTINGS;

export function spawnSettings(): Readonly<SpawnSettings> {
  return current;
}

/** Replaces the settings (unset fields take their defaults); returns what puts the previous ones back. */
export function configureSpawn(settings: Partial<SpawnSettings>): () => void {
  const previous = current;
  current = { ...DEFAULT_SPAWN_SETTINGS, ...settings };
  return () => { current = previous; };
}
