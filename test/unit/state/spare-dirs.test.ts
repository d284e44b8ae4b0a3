// Spare state directories (src/state/spare-dirs.ts): a library process reuses its removed state
// directories, so that a container made and removed makes and frees no inode, while every reader sees
// what it saw before: a container's directory whole or not at all, never a removed container's
// record, never a spare as a container. Renames played by the fake shim.
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateStore, type ContainerRecord } from '../../../src/state/store.js';
import { readProcStat } from '../../../src/state/status.js';
import { isSpareName, keepSpareStateDirs, NEXT_RECORD, removeDeadSpares, stopKeepingSpares } from '../../../src/state/spare-dirs.js';
import { installFakeShim, playedRenameExchange, playedRenameNoReplace, type FakeShim } from '../../helpers/fake-shim.js';

let fake: FakeShim | undefined;
const dirs: string[] = [];
afterEach(() => {
  stopKeepingSpares();
  fake?.uninstall();
  fake = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A store in a temp root, with spares kept (unless `keep` is false) and the renames counted. */
function setUp({ keep = true } = {}): { store: StateStore; renames: string[] } {
  const d = mkdtempSync(join(tmpdir(), 'tsrun-spare-unit-'));
  dirs.push(d);
  const renames: string[] = [];
  fake = installFakeShim(undefined, {
    renameExchange: (a, b) => { renames.push('exchange'); return playedRenameExchange(a, b); },
    renameNoReplace: (a, b) => { renames.push('noreplace'); return playedRenameNoReplace(a, b); },
  });
  if (keep) keepSpareStateDirs();
  return { store: new StateStore(join(d, 'state')), renames };
}

const record = (id: string, secret = 'SECRET=1'): ContainerRecord => ({
  ociVersion: '1.2.0', id, pid: 1, pidStartTime: '1', bundle: '/b', rootfs: '/b/rootfs', created: '2024-01-01T00:00:00.000Z', started: false,
  config: { ociVersion: '1.2.0', process: { cwd: '/', args: ['sh'], env: [secret], user: { uid: 0, gid: 0 } } },
});

/** Inode numbers of everything under `root` (a made inode shows as a new number). */
function inodes(root: string): Set<number> {
  const out = new Set<number>();
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    out.add(lstatSync(p).ino);
    if (lstatSync(p).isDirectory()) for (const f of readdirSync(p)) out.add(lstatSync(join(p, f)).ino);
  }
  return out;
}

const spareNames = (root: string): string[] => readdirSync(root).filter(isSpareName);

/** One container's life as the library lives it: created, written again, removed. */
function life(store: StateStore, id: string, secret?: string): void {
  store.createDir(id, record(id, secret));
  store.write({ ...record(id, secret), started: true });
  store.remove(id);
}

describe('spare state directories', () => {
  it('without them (the CLI), a removed container leaves nothing in the root', () => {
    const { store } = setUp({ keep: false });
    life(store, 'c1');
    expect(readdirSync(store.root)).toEqual([]);
  });

  it('a removed container\'s directory is kept hidden and emptied: no id lists it, no record is left in it', () => {
    const { store } = setUp();
    life(store, 'c1', 'SECRET=hunter2');
    const [spare, ...more] = spareNames(store.root);
    expect(more).toEqual([]);
    expect(readdirSync(store.root)).toEqual([spare]);
    expect(store.ids()).toEqual([]);
    expect(store.exists('c1')).toBe(false);
    const files = readdirSync(join(store.root, spare!)).sort();
    expect(files).toEqual([NEXT_RECORD, 'state.json'].sort());
    for (const f of files) expect(readFileSync(join(store.root, spare!, f), 'utf8')).toBe('');
    expect(spare).toMatch(new RegExp(`^\\.spare-${process.pid}-\\d+-[0-9a-f]{8}$`));
  });

  it('the next containers take it: no inode made or freed, each sees its own records, the swap atomic', () => {
    const { store, renames } = setUp();
    life(store, 'c1');
    const before = inodes(store.root);
    renames.length = 0;
    for (let i = 2; i < 6; i++) {
      store.createDir(`c${i}`, record(`c${i}`));
      expect(store.read(`c${i}`).id).toBe(`c${i}`);
      expect(store.ids()).toEqual([`c${i}`]);
      store.write({ ...record(`c${i}`), pid: 42 });
      expect(store.read(`c${i}`).pid).toBe(42);
      expect(statSync(join(store.dir(`c${i}`), 'state.json')).mode & 0o777).toBe(0o600);
      store.remove(`c${i}`);
    }
    expect(inodes(store.root)).toEqual(before);
    // Per container: the spare takes its name, the second record swaps in, the directory goes back.
    expect(renames).toEqual(Array.from({ length: 4 }, () => ['noreplace', 'exchange', 'noreplace']).flat());
  });

  it('an id that is taken is refused as before, with the spare given up and the other container untouched', () => {
    const { store } = setUp();
    life(store, 'c1');
    mkdirSync(store.dir('taken'));
    writeFileSync(join(store.dir('taken'), 'state.json'), 'theirs');
    expect(() => store.createDir('taken', record('taken'))).toThrow('container taken already exists');
    expect(readFileSync(join(store.dir('taken'), 'state.json'), 'utf8')).toBe('theirs');
    expect(readdirSync(store.root)).toEqual(['taken']);
    // An empty directory of that name (another create between its mkdir and its first record) too.
    life(store, 'c2');
    rmSync(store.dir('taken'), { recursive: true });
    mkdirSync(store.dir('taken'));
    expect(() => store.createDir('taken', record('taken'))).toThrow('already exists');
    expect(readdirSync(store.dir('taken'))).toEqual([]);
  });

  it('a directory holding more than records (an exec fifo, a network record) is removed, not kept', () => {
    const { store } = setUp();
    for (const extra of ['exec.fifo', 'network.json']) {
      store.createDir('c1', record('c1'));
      writeFileSync(join(store.dir('c1'), extra), '');
      store.remove('c1');
      expect(readdirSync(store.root)).toEqual([]);
    }
  });

  it('keeps at most four, and removes them all when this process stops keeping them', () => {
    const { store } = setUp();
    for (let i = 0; i < 6; i++) store.createDir(`c${i}`, record(`c${i}`));
    for (let i = 0; i < 6; i++) store.remove(`c${i}`);
    expect(spareNames(store.root)).toHaveLength(4);
    expect(readdirSync(store.root)).toHaveLength(4);
    stopKeepingSpares();
    expect(readdirSync(store.root)).toEqual([]);
  });

  it('a planted next record (a symlink, a file linked from elsewhere) is not written through: a new file as before', () => {
    const { store } = setUp();
    const outside = join(dirs[0]!, 'outside');
    for (const plant of [(p: string) => symlinkSync(outside, p), (p: string) => linkSync(outside, p)]) {
      writeFileSync(outside, 'host');
      store.createDir('c1', record('c1'));
      const next = join(store.dir('c1'), NEXT_RECORD);
      rmSync(next, { force: true });
      plant(next);
      store.write({ ...record('c1'), pid: 7 });
      expect(store.read('c1').pid).toBe(7);
      expect(readFileSync(outside, 'utf8')).toBe('host');
      store.remove('c1'); // holds a planted file: removed the general way
      rmSync(outside);
    }
  });

  it('spares of a process that is gone are removed by the next process keeping spares there; a live one\'s stay', () => {
    const { store } = setUp();
    mkdirSync(store.root, { recursive: true });
    const dead = join(store.root, '.spare-999999999-1-00000000');
    const live = join(store.root, `.spare-${process.ppid}-${readProcStat(process.ppid)!.startTime}-00000000`);
    for (const d of [dead, live]) {
      mkdirSync(d);
      writeFileSync(join(d, 'state.json'), '');
    }
    life(store, 'c1');
    expect(readdirSync(store.root).sort()).toEqual([live.slice(store.root.length + 1), ...spareNames(store.root).filter((n) => !live.endsWith(n))].sort());
    expect(lstatSync(dead, { throwIfNoEntry: false })).toBeUndefined();
    removeDeadSpares(store.root, { all: true });
    expect(readdirSync(store.root)).toEqual([]);
  });
});
