// Spare state directories. A library process makes and removes containers by the hundred, and each
// one's state directory (the directory and, over its life, two state.json files) was made and freed on
// the state root's file system. On ext4 without a journal (/run on these hosts) making an inode costs
// more the more inodes were freed in the last seconds: the allocator passes over each recently freed
// one, reading its inode table block (ext4's recently_deleted()). perf of run() back to back: ~1.2 ms
// of CPU a run there; the same runs with the state root on a tmpfs were 1.3 ms faster each.
//
// So a library process keeps a few removed state directories, emptied (their files truncated: no
// config or env outlives its container) and hidden under a name no id can have (ids start with a
// letter or digit): `.spare-<pid>-<start time>-<random>`. The next container takes one: its first
// record is written into the spare's state.json, then the directory takes the container's name with
// renameat2(RENAME_NOREPLACE), so a reader never sees it half made and an id that another create took
// meanwhile is refused as before. Each later record is written into NEXT_RECORD, which then swaps
// names with state.json (RENAME_EXCHANGE): the old record is the next one's file. No inode is made or
// freed in a steady run. A file of a fixed name can be planted, so one is written only if it opens
// without following a link and is a regular file of one link (store.ts writes a new temp file else).
//
// Only a library process keeps spares (keepSpareStateDirs(); on Node's main thread only, as a worker
// can be terminated without running exit handlers), at most MAX_SPARES per root, removed when it
// exits or is ended by SIGTERM, SIGINT or SIGHUP. A process that is SIGKILLed leaves its spares: the next process keeping spares in that root
// removes those of dead processes, and a session's sweep removes the ones in its root.
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { randomHex } from '../host/random.js';
import { writeAll } from './atomic-file.js';
import { renameExchange, renameNoReplace } from '../native/shim.js';
import { processAlive, thisProcess } from './status.js';
import { reuseStateDirs } from './store.js';

/** The file that a container's next record is written into before it swaps names with state.json. */
export const NEXT_RECORD = '.state.json.next';
const RECORD = 'state.json';
const PREFIX = '.spare-';
const MAX_SPARES = 4;

/**
 * Signals that end a process without its 'exit' handlers (vitest ends its fork workers with
 * SIGTERM). Listening to one replaces Node's default action, so the listener gives it back: it removes
 * the spares and then itself, and when no other listener is left, raises the signal again, which now
 * ends the process as it would have without us. A process that handles the signal itself keeps doing
 * so (its own 'exit', if it comes, finds nothing left to do).
 */
const ENDING_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** Per state root: the spares this process made and has not handed out. */
const spares = new Map<string, string[]>();
/** Roots whose dead processes' spares were looked for (once per process and root). */
const swept = new Set<string>();

/** From now on this process reuses state directories (the library calls it before each container). */
export function keepSpareStateDirs(): void {
  if (installed || !isMainThread) return;
  installed = true;
  reuseStateDirs({ make: fromSpare, write: writeByExchange, remove: keepAsSpare });
  process.once('exit', dropAllSpares);
  for (const sig of ENDING_SIGNALS) process.on(sig, onEndingSignal);
}
let installed = false;

function onEndingSignal(sig: NodeJS.Signals): void {
  dropAllSpares();
  for (const s of ENDING_SIGNALS) process.removeListener(s, onEndingSignal);
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

/** Back to making and removing state directories; this process's spares are removed (tests). */
export function stopKeepingSpares(): void {
  if (!installed) return;
  installed = false;
  reuseStateDirs(undefined);
  process.removeListener('exit', dropAllSpares);
  for (const sig of ENDING_SIGNALS) process.removeListener(sig, onEndingSignal);
  dropAllSpares();
  swept.clear();
}

function dropAllSpares(): void {
  for (const root of [...spares.keys()]) dropSpares(root);
}

/** A state directory's name that is a spare's, not a container's. */
export function isSpareName(name: string): boolean {
  return name.startsWith(PREFIX);
}

/** `dir` made out of a spare of this process holding `record` (store.ts's StateDirReuse.make). */
function fromSpare(root: string, dir: string, record: string): 'made' | 'taken' | 'none' {
  const spare = spares.get(root)?.pop();
  if (spare === undefined) return 'none';
  let renamed: string;
  try {
    writeOwnFile(join(spare, RECORD), record);
    renamed = renameNoReplace(spare, dir);
  } catch {
    renamed = 'not written';
  }
  if (renamed === 'renamed') return 'made';
  removeSpare(spare);
  return renamed === 'EEXIST' ? 'taken' : 'none';
}

/** `record` written into `dir`'s NEXT_RECORD, which then swaps names with state.json. */
function writeByExchange(dir: string, record: string): boolean {
  const next = join(dir, NEXT_RECORD);
  try {
    writeOwnFile(next, record);
  } catch {
    return false;
  }
  return renameExchange(next, join(dir, RECORD)) === 'swapped';
}

/**
 * Keeps the state directory `dir` of `root` as a spare instead of removing it: when there are fewer
 * than MAX_SPARES there and `dir` holds the record files only (anything else, such as an exec fifo, a
 * network record or an image's layers, is for the general removal). The directory takes a spare's
 * name (so it is gone at once for every reader), then its records are truncated and a missing
 * NEXT_RECORD made. False: `dir` is the caller's to remove.
 */
function keepAsSpare(root: string, dir: string): boolean {
  if (!swept.has(root)) removeDeadSpares(root);
  const list = spares.get(root) ?? [];
  if (list.length >= MAX_SPARES) return false;
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true }).map((e) => (e.isFile() ? e.name : '/'));
  } catch {
    return false;
  }
  if (!names.includes(RECORD) || !names.every((n) => n === RECORD || n === NEXT_RECORD)) return false;
  const me = thisProcess();
  const spare = join(root, `${PREFIX}${me.pid}-${me.startTime}-${randomHex(4)}`);
  if (renameNoReplace(dir, spare) !== 'renamed') return false;
  try {
    writeOwnFile(join(spare, RECORD), '');
    if (names.includes(NEXT_RECORD)) writeOwnFile(join(spare, NEXT_RECORD), '');
    else closeSync(openSync(join(spare, NEXT_RECORD), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
  } catch {
    removeSpare(spare); // gone all the same
    return true;
  }
  list.push(spare);
  spares.set(root, list);
  return true;
}

/**
 * Writes `data` over the file at `path`, which must be a regular file of one link opened without
 * following a link (not a fifo, a symlink or a file linked from elsewhere); throws otherwise.
 */
function writeOwnFile(path: string, data: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1) throw Object.assign(new Error(`${path}: not a regular file of one link`), { code: 'EINVAL' });
    ftruncateSync(fd, 0); // after the check: the open's O_TRUNC would have emptied a file linked from elsewhere
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
}

/** Removes this process's spares in `root` (a session's root that goes, or this process's exit). */
export function dropSpares(root: string): void {
  for (const spare of spares.get(root) ?? []) removeSpare(spare);
  spares.delete(root);
}

/** Removes the spares in `root` whose process is gone (a SIGKILLed test process's); `all`: every spare there. */
export function removeDeadSpares(root: string, { all = false }: { all?: boolean } = {}): void {
  swept.add(root);
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  const mine = new Set(spares.get(root));
  for (const name of names) {
    if (!isSpareName(name) || mine.has(join(root, name))) continue;
    const [pid, startTime] = name.slice(PREFIX.length).split('-');
    if (all || !processAlive(Number(pid), startTime ?? '')) removeSpare(join(root, name));
  }
  if (all) dropSpares(root);
}

/** A spare holds record files only (keepAsSpare made it so); what fails to go stays, named by no id. */
function removeSpare(spare: string): void {
  try {
    for (const name of readdirSync(spare)) unlinkSync(join(spare, name));
    rmdirSync(spare);
  } catch {
    /* left for the next sweep */
  }
}
