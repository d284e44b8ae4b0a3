// Which operation tsrun runs on a container in which status, in one table, and what it says when it
// refuses. runc's semantics, and runc 1.1's words where clients parse them: containerd's shim treats a
// kill that fails with "container not running" as a kill of a process that already exited, and podman
// matches "does not exist". Checked side by side with runc in
// test/integration/lifecycle/runc-parity.test.ts.
//
// `locks`: the operation changes the container (or its processes), so it runs under the container's
// lock (state/with-container.ts); reads do not wait for it: `state` must answer while a `delete
// --force` waits for an init to die.
import { TsrunError } from '../errors.js';
import type { Status } from './status.js';

export const OPERATIONS = [
  'state', 'start', 'kill', 'kill --all', 'delete', 'delete --force', 'pause', 'resume', 'exec', 'update', 'ps', 'events', 'inspect',
] as const;
export type Operation = typeof OPERATIONS[number];

/** Allowed, or the one-line refusal for container `id`. */
type Verdict = 'ok' | ((id: string) => string);
type Row = { locks: boolean } & Record<Status, Verdict>;

const ok = 'ok';
const being = (what: string) => (id: string): string => `cannot ${what} container ${id}: it is creating, its create has not finished (delete --force ends a creation)`;
const notRunning = (what: string, status: Status) => (id: string): string => `cannot ${what} container ${id}: container not running (it is ${status})`;
const notStopped = (status: Status) => (id: string): string => `cannot delete container ${id} that is not stopped: ${status} (kill it first, or use delete --force)`;
const cannotExec = (how: string) => (id: string): string => `container ${id}: cannot exec in ${how}`;
const cannotStart = (how: string) => (id: string): string => `container ${id}: cannot start ${how}`;
const nothingYet = (id: string): string => `container ${id} is creating: there is nothing to show until its create has finished`;

export const LIFECYCLE: Readonly<Record<Operation, Row>> = {
  state: { locks: false, creating: ok, created: ok, running: ok, paused: ok, stopped: ok },
  start: {
    locks: true, creating: cannotStart('a container in the creating state'), created: ok,
    running: cannotStart('an already running container'), paused: cannotStart('a container in the paused state'), stopped: cannotStart('a container that has stopped'),
  },
  // The init's pid is 0 until it exists: a signal to it would reach tsrun's own process group.
  kill: { locks: true, creating: being('kill'), created: ok, running: ok, paused: ok, stopped: notRunning('kill', 'stopped') },
  // runc's `kill --all` of a stopped container signals what is left in its cgroup, and succeeds.
  'kill --all': { locks: true, creating: being('kill'), created: ok, running: ok, paused: ok, stopped: ok },
  // A created container is killed and deleted without --force, as runc does (containerd's shim deletes so).
  delete: { locks: true, creating: notStopped('creating'), created: ok, running: notStopped('running'), paused: notStopped('paused'), stopped: ok },
  // A creating container: its creator is killed first; the rest of what it made goes after.
  'delete --force': { locks: true, creating: ok, created: ok, running: ok, paused: ok, stopped: ok },
  pause: { locks: true, creating: being('pause'), created: ok, running: ok, paused: notRunning('pause', 'paused'), stopped: notRunning('pause', 'stopped') },
  resume: {
    locks: true, creating: being('resume'), created: (id) => `cannot resume container ${id}: container not paused (it is created)`,
    running: (id) => `cannot resume container ${id}: container not paused (it is running)`, paused: ok,
    stopped: (id) => `cannot resume container ${id}: container not paused (it is stopped)`,
  },
  exec: {
    locks: true, creating: cannotExec('a container that is creating'), created: ok, running: ok,
    paused: cannotExec('a paused container (resume it first)'), stopped: cannotExec('a stopped container'),
  },
  update: { locks: true, creating: being('update'), created: ok, running: ok, paused: ok, stopped: notRunning('update', 'stopped') },
  ps: { locks: false, creating: nothingYet, created: ok, running: ok, paused: ok, stopped: ok },
  events: { locks: false, creating: nothingYet, created: ok, running: ok, paused: ok, stopped: (id) => `container with id ${id} is not running` },
  inspect: { locks: false, creating: nothingYet, created: ok, running: ok, paused: ok, stopped: (id) => `container ${id} is stopped: there is nothing left to inspect` },
};

/** Why `op` may not run on container `id` in `status`, or undefined when it may. */
export function lifecycleRefusal(op: Operation, status: Status, id: string): string | undefined {
  const verdict = LIFECYCLE[op][status];
  return verdict === ok ? undefined : verdict(id);
}

/** Throws the refusal (exit status 1, as runc's) unless `op` may run in `status`. */
export function checkLifecycle(op: Operation, status: Status, id: string): void {
  const refused = lifecycleRefusal(op, status, id);
  if (refused !== undefined) throw new TsrunError(refused);
}
