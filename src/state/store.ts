// The state directory of each container (crun's status.c, runc's state.json): one directory per id
// under the state root, with state.json written atomically and a lock so that two commands on one
// id cannot interleave.
//
// state.json holds the whole config, process.env included: the root tsrun makes is 0700, each
// container's directory 0700 and state.json 0600, as runc does (root 0700, state.json 0600).
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import type { Spec } from '../oci/types.js';
import type { CallerMounts } from '../rootfs/caller-mounts.js';
import { acquireFlock, type HeldFlock } from '../native/flock.js';
import { isPermissionError, stateRootError } from './access-error.js';
import { writeFileAtomic } from './atomic-file.js';
import { validateId } from './ids.js';

/** The tsrun process that is creating a container: pid and field 22 of its /proc/PID/stat. */
export interface Creator {
  pid: number;
  startTime: string;
}

/** What tsrun remembers about a container between commands. */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** Host pid of the container's init. */
  pid: number;
  /** Field 22 of /proc/PID/stat when the container was created: tells a reused pid apart. */
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339 creation time. */
  created: string;
  /** Written by earlier versions; `state` now names the owner of the state dir, as runc does. */
  owner?: string;
  annotations?: Record<string, string>;
  /** Absolute path of the container's cgroup, if it has one, and the topmost dir tsrun may remove. */
  cgroupDir?: string;
  cgroupOwnedRoot?: string;
  /** With --systemd-cgroup: the transient scope systemd made for the cgroup (delete stops it). */
  cgroupSystemdUnit?: string;
  /** Without a mount namespace: the mounts tsrun made in the caller's mount table (`delete` removes them). */
  callerMounts?: CallerMounts;
  /** True once `start` has run (the process exec'd). */
  started: boolean;
  /** The config the container was created from (hooks, process settings for exec). */
  config: Spec;
  /**
   * Present from the first record, written before anything else of the container exists, until
   * create has finished. While that process lives the container is "creating"; once it is gone
   * without finishing (killed), the record names what it made, for `delete` to remove. Until the
   * init exists, `pid` is 0.
   */
  creator?: Creator;
}

/**
 * How a library process reuses state directories instead of making and removing them
 * (state/spare-dirs.ts, installed by keepSpareStateDirs()). A CLI process never installs it (nor
 * loads its code); where a method answers 'none' or false, the store does as it does without it.
 */
export interface StateDirReuse {
  /** Makes `dir` of `root` holding `record` out of a spare: 'made'; 'taken' when `dir` exists; 'none' without a spare. */
  make(root: string, dir: string, record: string): 'made' | 'taken' | 'none';
  /** Writes `record` as `dir`'s state.json without a new file: false when it cannot. */
  write(dir: string, record: string): boolean;
  /** Keeps `dir` of `root` as a spare: false when it does not (the store removes it). */
  remove(root: string, dir: string): boolean;
}

let reuse: StateDirReuse | undefined;

/** Installs (or, with undefined, removes) the reuse of state directories in this process. */
export function reuseStateDirs(r: StateDirReuse | undefined): void {
  reuse = r;
}

/**
 * rm -rf of a state directory. Not fs.rmSync(recursive): its first call in a process costs 6-9 ms
 * (measured in `delete`), where a state dir usually holds two files.
 */
export function removeTree(path: string): void {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return void unlinkSync(path);
    // overlayfs leaves its workdir's work/ at mode 0: root reads it anyway, its owner (a rootless
    // container's) must make it readable first.
    if ((err as NodeJS.ErrnoException).code !== 'EACCES' || statSync(path).uid !== process.geteuid?.()) throw err;
    chmodSync(path, 0o700);
    entries = readdirSync(path, { withFileTypes: true });
  }
  for (const e of entries) {
    const child = join(path, e.name);
    if (e.isDirectory()) removeTree(child);
    else unlessGone(() => unlinkSync(child));
  }
  unlessGone(() => rmdirSync(path));
}

/** Runs fn, where ENOENT means that a concurrent remover (two `delete -f` of one id) got there first. */
function unlessGone(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

const alreadyExists = (id: string): TsrunError => new TsrunError(`container ${id} already exists`, { field: 'id' });

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, validateId(id));
  }

  fifoPath(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  exists(id: string): boolean {
    return existsSync(join(this.dir(id), 'state.json'));
  }

  /**
   * Creates the container's directory (0700) and writes its first record into it at once, so that
   * `delete` finds whatever comes next; fails if the id is taken. The root is made 0700; an
   * existing one keeps its mode (the user may have chosen it, as runc leaves it), except the 0711
   * that tsrun itself made before, under which its containers' state.json files were 0644.
   */
  createDir(id: string, first: ContainerRecord): string {
    const dir = this.dir(id);
    const reused = reuse?.make(this.root, dir, JSON.stringify(first)) ?? 'none';
    if (reused === 'made') return dir;
    if (reused === 'taken') throw alreadyExists(id);
    try {
      this.makeRoot();
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(id);
      throw isPermissionError(err) ? stateRootError(this.root, err) : err;
    }
    try {
      this.write(first);
    } catch (err) {
      removeTree(dir); // made here, and nothing else knows of it yet
      throw err;
    }
    return dir;
  }

  private makeRoot(): void {
    try {
      mkdirSync(this.root, { mode: 0o700 });
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return void mkdirSync(this.root, { recursive: true, mode: 0o700 });
      if (code !== 'EEXIST') throw err;
    }
    const st = statSync(this.root);
    if ((st.mode & 0o7777) === 0o711 && st.uid === process.geteuid?.()) chmodSync(this.root, 0o700);
  }

  read(id: string): ContainerRecord {
    const file = join(this.dir(id), 'state.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (isPermissionError(err)) throw stateRootError(this.root, err);
      throw new TsrunError(`container ${id} does not exist`, { field: 'id', file });
    }
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch {
      // Written atomically, so only a hand-edited or foreign file gets here: say which.
      throw new TsrunError(`container ${id}: ${file} is not valid JSON`, { field: 'id', file });
    }
  }

  /**
   * temp file + rename (or, with spare dirs, the kept next-record file + exchange): a reader sees the
   * old state or the new one, never half of one. Mode 0600.
   */
  write(record: ContainerRecord): void {
    const dir = this.dir(record.id);
    const data = JSON.stringify(record);
    if (!reuse?.write(dir, data)) writeFileAtomic(join(dir, 'state.json'), data, 0o600);
  }

  remove(id: string): void {
    const dir = this.dir(id);
    if (reuse?.remove(this.root, dir)) return;
    // Usually the directory holds state.json alone (the exec fifo is gone once started): two
    // syscalls instead of listing it. Anything else there, or a failure, takes the general way.
    try {
      unlinkSync(join(dir, 'state.json'));
      rmdirSync(dir);
      return;
    } catch {
      removeTree(dir);
    }
  }

  /** The containers' ids: directories holding a state.json, less hidden ones (no id starts with a dot; spare-dirs.ts). */
  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.') && existsSync(join(this.root, e.name, 'state.json'))).map((e) => e.name);
    } catch {
      return [];
    }
  }

  /**
   * Runs `fn` holding an exclusive flock on the container's directory (native/flock.ts). Operations
   * on a container take it through withContainer (with-container.ts), which also checks its status.
   */
  async withLock<T>(id: string, fn: () => Promise<T> | T): Promise<T> {
    const dir = this.dir(id); // an invalid id is reported as such, not as "does not exist"
    let lock: HeldFlock;
    try {
      lock = await acquireFlock({ path: dir, kind: 'dir' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new TsrunError(`container ${id} does not exist`, { field: 'id' });
      throw err;
    }
    try {
      return await fn();
    } finally {
      lock.release();
    }
  }
}
