// The state store's failure paths, with the fake shim standing in for flock: a taken id, a first
// record that cannot be written, a lock held by another tsrun, a lock released when its holder
// throws, a state.json that is not JSON, removal of a directory holding more than state.json.
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateStore, type ContainerRecord } from '../../../src/state/store.js';
import { TsrunError } from '../../../src/errors.js';
import { installFakeShim, type FakeShim } from '../../helpers/fake-shim.js';

let dir: string | undefined;
let fake: FakeShim | undefined;
afterEach(() => {
  fake?.uninstall();
  fake = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function store(): StateStore {
  dir = mkdtempSync(join(tmpdir(), 'tsrun-store-failures-'));
  fake = installFakeShim();
  return new StateStore(join(dir, 'root'));
}

const record = (id: string, more: Partial<ContainerRecord> = {}): ContainerRecord => ({
  ociVersion: '1.2.0', id, pid: 0, pidStartTime: '', bundle: '/b', rootfs: '/b/rootfs', created: '2024-01-01T00:00:00.000Z', started: false,
  config: { ociVersion: '1.2.0' }, ...more,
});

/** fds of this process open on `path`. */
const fdsOn = (path: string): string[] => readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`) === path; } catch { return false; } });

describe('StateStore: failures', () => {
  it('an id that is taken: refused naming it, the other container untouched', () => {
    const s = store();
    s.createDir('c', record('c', { bundle: '/first' }));
    expect(() => s.createDir('c', record('c', { bundle: '/second' }))).toThrow('container c already exists');
    expect(s.read('c').bundle).toBe('/first');
  });

  it('a first record that cannot be written: the directory made for it goes again', () => {
    const s = store();
    const bad = record('c', { annotations: { big: 1n as unknown as string } }); // JSON.stringify throws on a BigInt
    expect(() => s.createDir('c', bad)).toThrow(TypeError);
    expect(readdirSync(s.root)).toEqual([]);
  });

  it('an id that is no id is refused before anything is touched', () => {
    const s = store();
    expect(() => s.createDir('../x', record('../x'))).toThrow(/id/);
    expect(() => s.dir('a/b')).toThrow(/id/);
  });

  it('a state.json that is not JSON: an error naming the container and the file', () => {
    const s = store();
    s.createDir('c', record('c'));
    writeFileSync(join(s.dir('c'), 'state.json'), '{"id": "c", "pid"');
    const err = (() => { try { s.read('c'); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(TsrunError);
    expect((err as TsrunError).message).toBe(`container c: ${join(s.dir('c'), 'state.json')} is not valid JSON`);
  });

  it('withLock: a container that does not exist', async () => {
    const s = store();
    await expect(s.withLock('nope', () => 1)).rejects.toThrow('container nope does not exist');
  });

  it('withLock: waits for a lock another tsrun holds, and always lets go of it', async () => {
    const s = store();
    s.createDir('c', record('c'));
    fake!.flockBusy = 1;
    expect(await s.withLock('c', () => 'ran')).toBe('ran');
    await expect(s.withLock('c', () => { throw new Error('inside'); })).rejects.toThrow('inside');
    expect(fdsOn(s.dir('c'))).toEqual([]);
  });

  it('remove: a directory holding more than state.json (an image bundle, a fifo) goes whole; a gone one is fine', () => {
    const s = store();
    s.createDir('c', record('c'));
    mkdirSync(join(s.dir('c'), 'bundle', 'rootfs'), { recursive: true });
    writeFileSync(join(s.dir('c'), 'exec.fifo'), '');
    s.remove('c');
    expect(readdirSync(s.root)).toEqual([]);
    s.remove('c');
  });
});
