// Device programs loaded once per process and shared by the cgroups tsrun makes. A CGROUP_DEVICE
// program holds no state (no maps), so one loaded program can sit on any number of cgroups; loading
// it (the verifier) is the costly part, ~0.35 ms, which the library paid again for every container of
// a test suite. Only a cgroup tsrun just made may borrow one: on a cgroup that already carries the
// same program, attaching it again would fail (EEXIST), so those still load their own.
import { loadDeviceProgram } from '../../native/bpf.js';

/** Enough for the rule sets one test process uses; beyond it, programs are loaded per cgroup again. */
const MAX_SHARED = 16;

let shared: { pid: number; byCode: Map<string, number> } | undefined;

/**
 * The fd of a loaded program with these instructions, kept open for the life of the process: the
 * caller must not close it. bpf(2) returns its fds close-on-exec, and tsrun-init closes every fd
 * its plan does not name, so none reaches a container. Undefined when the table is full.
 */
export function sharedDeviceProgram(instructions: Buffer): number | undefined {
  // Keyed by pid: a table the startup snapshot's build filled names fds of another process.
  if (shared?.pid !== process.pid) shared = { pid: process.pid, byCode: new Map() };
  const key = instructions.toString('base64');
  const known = shared.byCode.get(key);
  if (known !== undefined) return known;
  if (shared.byCode.size >= MAX_SHARED) return undefined;
  const fd = loadDeviceProgram(instructions);
  shared.byCode.set(key, fd);
  return fd;
}

/** The fds the table keeps open on purpose (a leak check must not count them). */
export function sharedProgramFds(): number[] {
  return shared?.pid === process.pid ? [...shared.byCode.values()] : [];
}
