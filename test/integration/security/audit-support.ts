// Shared by the attack tests of test/integration/security/: throwaway host directories that stand
// for "the host's files" an attack must not reach, removed by exact path after each test, and a
// bundle whose rootfs the test makes hostile before config.json is written.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../../../src/oci/types.js';
import { makeBundle, removeTree, sh, startTsrun, waitForBuild, type TestBundle } from '../../helpers/bundle.js';

const scratch = new Set<string>();

/**
 * A directory on the host that plays the part of the host's files in an attack: made fresh by the
 * test, world-readable (a container whose root maps to another uid must be able to reach its
 * bundle), and removed by exact path in afterEach (`removeScratch`), never crossing a mount.
 */
export function hostScratch(what: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tsrun-sec-${what}-`));
  chmodSync(dir, 0o755);
  scratch.add(dir);
  return dir;
}

export function removeScratch(): void {
  for (const dir of [...scratch]) {
    scratch.delete(dir);
    removeTree(dir);
  }
}

/** Names in a host directory, sorted (what an attack may have created there). */
export function entries(dir: string): string[] {
  return readdirSync(dir).sort();
}

/**
 * A bundle whose process is `sh -c SCRIPT <marker>`, writable root, the sample's mounts and
 * namespaces unless `mutate` changes them; `hostile` edits the rootfs copy the way an image would.
 */
export function hostileBundle(script: string, opts: { hostile?: (rootfs: string) => void; mutate?: (spec: Spec, b: { dir: string; rootfs: string; marker: string }) => void } = {}): TestBundle {
  return makeBundle({
    ...(opts.hostile ? { prepareRootfs: opts.hostile } : {}),
    mutate: (spec, b) => {
      spec.process!.args = sh(script, b.marker);
      spec.root!.readonly = false;
      opts.mutate?.(spec, b);
    },
  });
}

/** The Cap*, NoNewPrivs, Seccomp and Uid lines of /proc/self/status, as shell text to run. */
export const STATUS_LINES = 'grep -E "^(Uid|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):" /proc/self/status; grep "^0::" /proc/self/cgroup';

/** `Key:\tvalue` lines → record (values with their inner whitespace collapsed). */
export function statusRecord(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').filter((l) => l.includes(':')).map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim().replace(/\s+/g, ' ')];
  }));
}

/**
 * The attacker of the race classes (CVE-2019-19921, CVE-2021-30465, CVE-2024-45310): a container that
 * shares the host directory `volume` (at /v) with its victims and, until `stop()`, keeps swapping
 * /v/d between a directory and a symlink to `target` (an absolute path of the host, a throwaway
 * directory of the test), as another container on the same volume would. Busybox renames only.
 */
export interface Swapper {
  /** Swaps done so far (read from the volume). */
  stop(): Promise<number>;
}

export async function startSwapper(volume: string, target: string): Promise<Swapper> {
  const script = [
    'cd /v && mkdir -p d && ln -s "$1" l || exit 1', 'n=0', 'echo started > /v/started',
    'while [ ! -e /v/stop ]; do mv d s; mv l d; mv d l; mv s d; n=$((n+1)); done',
    'echo $n > /v/swaps',
  ].join('\n');
  const bundle = makeBundle({
    mutate: (spec, b) => {
      spec.process!.args = ['sh', '-c', script, b.marker, target];
      spec.root!.readonly = false;
      spec.mounts = [...spec.mounts!, { destination: '/v', type: 'bind', source: volume, options: ['rbind', 'rw'] }];
    },
  });
  await waitForBuild();
  const proc = startTsrun(['run', '--bundle', bundle.dir], { timeout: 120_000 });
  const end = Date.now() + 10_000;
  while (!existsSync(join(volume, 'started')) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(join(volume, 'started'))) throw new Error(`the swapper did not start: ${String((await proc).stderr)}`);
  return {
    async stop() {
      writeFileSync(join(volume, 'stop'), '');
      const r = await proc;
      if (r.exitCode !== 0) throw new Error(`the swapper failed: ${String(r.stderr)}`);
      return Number(readFileSync(join(volume, 'swaps'), 'utf8'));
    },
  };
}
