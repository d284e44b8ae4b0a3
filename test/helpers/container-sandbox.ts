// Everything a unit test of a container operation needs, without root: a temp dir with a bundle (a
// rootfs directory and config.json), a state root, a cgroup v2 hierarchy that is a plain directory,
// and the fake shim. `leftovers(id)` lists what of a container still exists — its state dir, its
// cgroups, processes the fake spawned and nobody killed, fds opened since the sandbox was made — so a
// test of a failure path can assert that the undo removed exactly what had been made.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { Spec } from '../../src/oci/types.js';
import { sharedProgramFds } from '../../src/cgroups/devices/shared-program.js';
import { fakeCgroupRoot, type FakeCgroupRoot } from './fake-cgroup-root.js';
import { setCgroupProcesses } from './fake-cgroupfs.js';
import { installFakeShim, type ChildScript, type FakeShim } from './fake-shim.js';
import type { WirePlan } from './decode-plan.js';

export interface Sandbox {
  dir: string;
  /** State root (`--root`). */
  root: string;
  bundle: string;
  cgroup: FakeCgroupRoot;
  shim: FakeShim;
  /** Writes the bundle's config.json: the default spec without a terminal, changed by `mutate`. */
  writeConfig(mutate?: (s: Spec) => void): Spec;
  /** A real process (sleep) that the fake treats as a container init made earlier. */
  standIn(): ChildProcess;
  leftovers(id: string): string[];
  remove(): void;
}

/** fd → what it names, for the fds that could be the sandbox's (its files, /dev/null of the fake). */
function sandboxFds(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try { target = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (target.startsWith(dir) || target === '/dev/null') out.set(fd, target);
  }
  return out;
}

export function makeSandbox(scriptFor?: (n: number, plan: WirePlan) => ChildScript): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-unit-'));
  const root = join(dir, 'state');
  const bundle = join(dir, 'bundle');
  mkdirSync(join(bundle, 'rootfs'), { recursive: true });
  const cgroup = fakeCgroupRoot();
  const fdsBefore = sandboxFds(dir);
  const shim = installFakeShim(scriptFor);
  // A process listed in a cgroup lives while the fake says so (or, not the fake's, while /proc has it).
  setCgroupProcesses((pid) => {
    const child = shim.byPid(pid);
    return child ? child.state !== 'gone' : existsSync(`/proc/${pid}`);
    // Only the fake's own (stand-ins included): a stray pid in a test's cgroup.procs is never signalled.
  }, (pid) => { if (shim.byPid(pid)) process.kill(pid, 'SIGKILL'); });
  const standIns: ChildProcess[] = [];
  const writeConfig = (mutate: (s: Spec) => void = () => {}): Spec => {
    const spec = defaultSpec({ terminal: false });
    mutate(spec);
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    return spec;
  };
  writeConfig();
  return {
    dir, root, bundle, cgroup, shim, writeConfig,
    standIn() {
      const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
      standIns.push(child);
      shim.adopt(child);
      return child;
    },
    leftovers(id) {
      const out: string[] = [];
      const stateDir = join(root, id);
      if (existsSync(stateDir)) out.push(`state dir: ${readdirSync(stateDir).join(' ') || '(empty)'}`);
      for (const c of cgroup.cgroups()) out.push(`cgroup ${c}`);
      for (const c of shim.living()) if (!c.script.standIn) out.push(`process ${c.pid} (${c.state})`);
      for (const fd of shim.openFds()) out.push(`fd ${fd} of the fake (sync socket or pidfd)`);
      // The device programs the process keeps loaded for the next containers are not leaks.
      const fakes = new Set([...shim.openFds(), ...sharedProgramFds()].map(String));
      for (const [fd, target] of sandboxFds(dir)) if (!fdsBefore.has(fd) && !fakes.has(fd)) out.push(`fd ${fd} → ${target}`);
      return out;
    },
    remove() {
      shim.uninstall();
      for (const c of standIns) c.kill('SIGKILL');
      cgroup.remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
