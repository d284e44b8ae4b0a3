// A container's cgroup as a systemd transient scope. systemd makes a scope only with processes in it
// (PIDs=), so the cgroup cannot exist before the container's process as it does with cgroupfs (where
// the process is born inside with clone3 CLONE_INTO_CGROUP). The order is runc's:
//   1. the init is cloned in tsrun's own cgroup and waits for the go-ahead before its first step;
//   2. place(pid): StartTransientUnit(<unit>, "replace", Slice, Delegate=yes, PIDs=[pid], limits…),
//      then the job's end (JobRemoved, "done"); a unit of that name left failed is reset and the start
//      retried once; systemd has moved the process into <slice>/<unit>;
//   3. every planned limit is written to the scope's own files too (runc's v2 manager does), and the
//      device program goes on the scope's cgroup (attached before exec, as with cgroupfs);
//   4. the init goes on: its whole set-up runs inside the scope.
// destroy(): what is left in the cgroup is killed (cgroup.kill), StopUnit waits for systemd to stop
// the scope (it removes the cgroup, with whatever the container made below it: Delegate=yes), and
// ResetFailedUnit makes it forget a scope that failed, as runc does.
//
// systemd stops a scope (and removes its cgroup) as soon as it is empty: when an OOM kill ends the
// init, memory.events is gone before `run` can read it. So the handle watches memory.events (inotify)
// from placement on and remembers an oom_kill it saw; when the cgroup went before the watch could
// read it, it asks systemd for the scope's Result ("oom-kill"). systemd itself may see the scope
// empty before it sees the kill (the kernel notifies the two files' watchers in either order): it
// then forgets a scope that succeeded. What stays is the parent's memory.events, whose counts are
// hierarchical: a rise of its oom_kill since the scope was made, with the init SIGKILLed, is taken
// as this container's OOM kill (a sibling's kill at the same moment could be mistaken for it).
import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join, posix } from 'node:path';
import { CgroupError } from '../errors.js';
import { parseFlatKeyed, readCgroupFile } from '../files.js';
import { adoptCgroup, loadCgroup, type ApplyOptions, type CgroupHandle, type CgroupWriteObserver } from '../manager.js';
import type { CgroupStats } from '../stats.js';
import type { CgroupPlan, DeviceRule, SystemdScopePlan } from '../types.js';
import { DBusError } from './bus.js';
import { SystemdManager, systemdBooted } from './manager-api.js';
import { withPid } from './properties.js';

/** How a handle reaches systemd: the connection the driver opened, or a new one. */
export type Connect = () => Promise<SystemdManager>;

export class ScopeHandle implements CgroupHandle {
  readonly bornInside = false;
  /** The cgroupfs handle of the scope's cgroup, once it exists. */
  private inner: CgroupHandle | undefined;
  private oomSeen = false;
  private oomWatch: FSWatcher | undefined;
  /** The parent's oom_kill before the container could run (a scope to make only). */
  private parentOomKills: number | undefined;

  constructor(
    readonly dir: string,
    readonly unit: string,
    private readonly connect: Connect,
    /** The plan, for a scope still to be made; none for one loaded from a container's record. */
    private readonly making?: { plan: CgroupPlan & { systemd: SystemdScopePlan }; observe?: CgroupWriteObserver; opts: ApplyOptions },
  ) {
    if (!making && existsSync(join(dir, 'cgroup.procs'))) this.inner = loadCgroup(dir, dir);
    this.parentOomKills = making ? oomKills(posix.dirname(dir)) : undefined;
  }

  async place(pid: number): Promise<void> {
    if (!this.making) throw new CgroupError(`cgroup: the systemd scope ${this.unit} exists already; a process joins it with addProcess`);
    const { plan, observe, opts } = this.making;
    const manager = await this.connect();
    try {
      await startScope(manager, this.unit, withPid(plan.systemd.properties, pid));
    } finally {
      manager.close();
    }
    checkPlacement(pid, plan.mountPoint, this.dir, this.unit);
    // A slice that systemd made with the scope has its count only now (the init still waits).
    this.parentOomKills ??= oomKills(posix.dirname(this.dir));
    this.inner = adoptCgroup(plan, observe, opts);
    this.watchOom();
  }

  private watchOom(): void {
    try {
      this.oomWatch = watch(join(this.dir, 'memory.events'), { persistent: false }, () => this.noteOom());
      this.oomWatch.on('error', () => this.oomWatch?.close());
    } catch {
      // No memory controller here: no OOM kill to report.
    }
  }

  private noteOom(): void {
    if ((oomKills(this.dir) ?? 0) > 0) this.oomSeen = true;
  }

  private placed(what: string): CgroupHandle {
    if (!this.inner) throw new CgroupError(`cgroup: cannot ${what}: the systemd scope ${this.unit} has no cgroup (${this.dir})`, { file: this.dir });
    return this.inner;
  }

  openDirFd(): number { return this.placed('open it').openDirFd(); }
  addProcess(pid: number): void { this.placed('add a process').addProcess(pid); }
  pids(): number[] { return this.inner?.pids() ?? []; }
  freeze(timeoutMs?: number): Promise<void> { return this.placed('freeze it').freeze(timeoutMs); }
  thaw(timeoutMs?: number): Promise<void> { return this.placed('thaw it').thaw(timeoutMs); }
  async kill(timeoutMs?: number): Promise<void> { if (this.populated()) await this.inner!.kill(timeoutMs); }
  populated(): boolean { return this.inner !== undefined && existsSync(this.dir) && this.inner.populated(); }
  stats(): CgroupStats { return this.placed('read its statistics').stats(); }
  async oomKilled(initSigkilled = false): Promise<boolean> {
    if (existsSync(this.dir)) this.noteOom();
    if (this.oomSeen || existsSync(this.dir)) return this.oomSeen;
    if (await this.resultSaysOom()) return (this.oomSeen = true);
    if (initSigkilled && this.parentOomKillsRose()) this.oomSeen = true;
    return this.oomSeen;
  }

  private parentOomKillsRose(): boolean {
    const before = this.parentOomKills;
    const now = before === undefined ? undefined : oomKills(posix.dirname(this.dir));
    return before !== undefined && now !== undefined && now > before;
  }

  private async resultSaysOom(): Promise<boolean> {
    // systemd stopped the emptied scope and removed its cgroup, at times before the watch could read
    // memory.events (a VM run of make test lost that race): the scope's Result, which systemd keeps
    // until ResetFailedUnit (destroy), says whether an OOM kill ended it.
    try {
      const manager = await this.connect();
      try {
        return (await manager.scopeResult(this.unit)) === 'oom-kill';
      } finally {
        manager.close();
      }
    } catch {
      // systemd unreachable now: it cannot say.
      return false;
    }
  }
  setDeviceRules(rules: readonly DeviceRule[] | null): void { this.placed('set its device rules').setDeviceRules(rules); }
  loadDevices(): void { this.inner?.loadDevices(); }
  attachDevices(): void { this.inner?.attachDevices(); }

  /** Always false: only systemd removes its scope (destroy asks it). */
  removeIfEmpty(): boolean {
    return false;
  }

  async destroy(timeoutMs = 10_000): Promise<void> {
    this.oomWatch?.close();
    // No systemd running (a machine rebooted without it since): no unit of it exists.
    if (!this.making && !existsSync(this.dir) && !systemdBooted()) return;
    await this.kill(timeoutMs);
    const manager = await this.connect();
    try {
      await manager.stopUnit(this.unit);
      await manager.resetFailedUnit(this.unit);
    } finally {
      manager.close();
    }
    // systemd removed the cgroup when it stopped the scope; one it left (an older systemd keeps
    // sub-cgroups) goes here.
    if (existsSync(join(this.dir, 'cgroup.procs'))) await loadCgroup(this.dir, this.dir).destroy(timeoutMs);
  }
}

/** StartTransientUnit and its job; a failed unit of that name is reset and the start retried once. */
export async function startScope(manager: SystemdManager, unit: string, properties: Parameters<SystemdManager['startTransientUnit']>[1]): Promise<void> {
  let result: string;
  try {
    result = await manager.startTransientUnit(unit, properties);
  } catch (err) {
    if (!(err instanceof DBusError) || err.errorName !== 'org.freedesktop.systemd1.UnitExists') throw scopeError(unit, err);
    await manager.resetFailedUnit(unit);
    try {
      result = await manager.startTransientUnit(unit, properties);
    } catch (again) {
      throw scopeError(unit, again, again instanceof DBusError && again.errorName === 'org.freedesktop.systemd1.UnitExists'
        ? ' (a unit of that name is running: is another container using this linux.cgroupsPath?)' : '');
    }
  }
  if (result !== 'done') {
    await manager.resetFailedUnit(unit).catch(() => {});
    throw new CgroupError(`cgroup: systemd could not start the scope ${unit}: its job ended "${result}" (journalctl -u ${unit} may say why)`, { field: 'linux.cgroupsPath' });
  }
}

function scopeError(unit: string, err: unknown, hint = ''): CgroupError {
  const what = err instanceof DBusError ? `${err.errorName}: ${err.message}` : (err as Error).message;
  return new CgroupError(`cgroup: systemd refused the scope ${unit}: ${what}${hint}`, { field: 'linux.cgroupsPath', cause: err });
}

/** systemd moved the process where the plan (and the container's record) says: <mount>/<slice path>/<unit>. */
function checkPlacement(pid: number, mountPoint: string, dir: string, unit: string): void {
  let line: string | undefined;
  try {
    line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
  } catch (err) {
    throw new CgroupError(`cgroup: cannot read /proc/${pid}/cgroup after systemd made ${unit}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: `/proc/${pid}/cgroup` });
  }
  const actual = line === undefined ? undefined : posix.join(mountPoint, line.slice(3));
  if (actual !== dir) {
    throw new CgroupError(`cgroup: systemd started ${unit} but the container's process is in ${actual ?? 'no cgroup v2 group'}, not in ${dir}`, { file: dir, field: 'linux.cgroupsPath' });
  }
}

/** memory.events' oom_kill in cgroup `dir` (hierarchical: its descendants' too); undefined when unreadable. */
function oomKills(dir: string): number | undefined {
  const text = readCgroupFile(dir, 'memory.events');
  return text === undefined ? undefined : (parseFlatKeyed(text)['oom_kill'] ?? 0);
}
