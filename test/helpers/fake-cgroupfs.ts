// cgroupfs semantics over plain temp directories, for unit tests that mock node:fs with it:
//
//   vi.mock('node:fs', async (actual) => (await import('../../helpers/fake-cgroupfs.js')).withCgroupfs(await actual()));
//
// Under a registered root (fake-cgroup-root.ts), as in the kernel's cgroupfs: mkdir makes a cgroup
// with its interface files (cgroup.procs, cgroup.events, cgroup.kill, cgroup.freeze, and the files
// of the controllers its parent enables); writing a pid to cgroup.procs adds it; writing 1 to
// cgroup.kill SIGKILLs every process listed; reading cgroup.events says "populated 1" while a listed
// process lives (the file itself never changes: a watcher of it wakes only by its backstop timer);
// rmdir refuses (EBUSY) a cgroup with children or live processes and takes its files with it.
// Nothing else changes: paths outside the roots go to the real functions.
//
// This module must not import node:fs itself (it is the mock's factory): it works on `actual`.
import { join } from 'node:path';

type Fs = typeof import('node:fs');
type PathLike = import('node:fs').PathLike;

const roots = new Set<string>();
/** Whether a pid listed in a cgroup still runs (the fake shim knows its children). */
let alive: (pid: number) => boolean = () => false;
/** How a process listed in a cgroup is killed (never a real kill(2) unless a test says how). */
let kill: (pid: number) => void = () => {};

export function registerCgroupRoot(root: string): void { roots.add(root); }
export function unregisterCgroupRoot(root: string): void { roots.delete(root); }
export function setCgroupProcesses(isAlive: (pid: number) => boolean, killPid?: (pid: number) => void): void {
  alive = isAlive;
  if (killPid) kill = killPid;
}

const under = (p: unknown): p is string => typeof p === 'string' && [...roots].some((r) => p.startsWith(`${r}/`));
const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const dirOf = (p: string): string => p.slice(0, p.lastIndexOf('/'));

/** Interface files of a controller, as far as tsrun writes or reads them. */
const CONTROLLER_FILES: Record<string, string[]> = {
  memory: ['memory.max', 'memory.low', 'memory.high', 'memory.min', 'memory.swap.max', 'memory.events', 'memory.oom.group', 'memory.current', 'memory.stat'],
  pids: ['pids.max', 'pids.current', 'pids.events'],
  cpu: ['cpu.max', 'cpu.weight', 'cpu.stat'],
  hugetlb: [],
};

export function withCgroupfs(actual: Fs): Fs {
  const read = (p: string): string => { try { return actual.readFileSync(p, 'utf8'); } catch { return ''; } };
  const pids = (dir: string): number[] => read(join(dir, 'cgroup.procs')).split('\n').filter((l) => l !== '').map(Number);
  const subdirs = (dir: string): string[] => actual.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  const populated = (dir: string): boolean => pids(dir).some((pid) => alive(pid)) || subdirs(dir).some(populated);
  /** fd → path of interface files open for writing, whose writes act. */
  const writing = new Map<number, string>();

  const mkdirSync = ((path: PathLike, options?: Parameters<Fs['mkdirSync']>[1]) => {
    const made = actual.mkdirSync(path, options as never);
    if (!under(path)) return made;
    const controllers = read(join(dirOf(path), 'cgroup.subtree_control')).split(/\s+/).filter((c) => c !== '');
    const files: Record<string, string> = {
      'cgroup.procs': '', 'cgroup.events': '', 'cgroup.kill': '', 'cgroup.freeze': '0\n', 'cgroup.subtree_control': '', 'cgroup.controllers': `${controllers.join(' ')}\n`,
    };
    for (const c of controllers) for (const f of CONTROLLER_FILES[c] ?? []) files[f] = '';
    for (const [f, text] of Object.entries(files)) actual.writeFileSync(join(path, f), text);
    return made;
  }) as Fs['mkdirSync'];

  const rmdirSync = ((path: PathLike, options?: Parameters<Fs['rmdirSync']>[1]) => {
    if (under(path) && actual.existsSync(join(path, 'cgroup.procs'))) {
      if (subdirs(path).length > 0 || populated(path)) throw Object.assign(new Error(`EBUSY: resource busy or locked, rmdir '${path}'`), { code: 'EBUSY', errno: -16, syscall: 'rmdir', path });
      for (const f of actual.readdirSync(path)) actual.unlinkSync(join(path, f));
    }
    return actual.rmdirSync(path, options);
  }) as Fs['rmdirSync'];

  const readFileSync = ((path: Parameters<Fs['readFileSync']>[0], options?: Parameters<Fs['readFileSync']>[1]) => {
    if (under(path) && base(path) === 'cgroup.events' && actual.existsSync(path.slice(0, -'events'.length) + 'procs')) {
      const dir = dirOf(path);
      const text = `populated ${populated(dir) ? 1 : 0}\nfrozen ${read(join(dir, 'cgroup.freeze')).trim() === '1' ? 1 : 0}\n`;
      return typeof options === 'string' || (options && typeof options === 'object' && options.encoding) ? text : Buffer.from(text);
    }
    return actual.readFileSync(path, options as never);
  }) as Fs['readFileSync'];

  const openSync = ((path: PathLike, flags?: import('node:fs').OpenMode, mode?: import('node:fs').Mode) => {
    const fd = actual.openSync(path, flags as import('node:fs').OpenMode, mode);
    if (under(path) && (base(path) === 'cgroup.kill' || base(path) === 'cgroup.procs')) writing.set(fd, path);
    return fd;
  }) as Fs['openSync'];

  const writeSync = ((fd: number, buffer: unknown, ...rest: unknown[]) => {
    const path = writing.get(fd);
    if (path !== undefined) {
      const text = typeof buffer === 'string' ? buffer : Buffer.from(buffer as Uint8Array).toString();
      const dir = dirOf(path);
      if (base(path) === 'cgroup.procs') actual.appendFileSync(path, `${text.trim()}\n`);
      else if (text.trim() === '1') for (const pid of pids(dir)) kill(pid);
      return text.length;
    }
    return (actual.writeSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
  }) as Fs['writeSync'];

  const closeSync = ((fd: number) => {
    writing.delete(fd);
    return actual.closeSync(fd);
  }) as Fs['closeSync'];

  return { ...actual, default: { ...actual, mkdirSync, rmdirSync, readFileSync, openSync, writeSync, closeSync }, mkdirSync, rmdirSync, readFileSync, openSync, writeSync, closeSync } as Fs;
}
