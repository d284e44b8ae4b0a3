// The state store's file modes: state.json holds process.env, so only its owner may read it.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateStore, type ContainerRecord } from '../../../src/state/store.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsrun-store-unit-'));
  dirs.push(d);
  return d;
}
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

const mode = (p: string): number => statSync(p).mode & 0o7777;
const record = (id: string): ContainerRecord => ({
  ociVersion: '1.2.0', id, pid: 1, pidStartTime: '1', bundle: '/b', rootfs: '/b/rootfs', created: '2024-01-01T00:00:00.000Z', started: false,
  config: { ociVersion: '1.2.0', process: { cwd: '/', args: ['sh'], env: ['SECRET=1'], user: { uid: 0, gid: 0 } } },
});

describe('StateStore modes', () => {
  it('makes a missing root (and its missing parents) 0700, the container dir 0700 and state.json 0600', () => {
    const root = join(tmp(), 'a', 'root');
    const store = new StateStore(root);
    store.createDir('c1', record('c1'));
    expect([mode(join(root, '..')), mode(root), mode(join(root, 'c1')), mode(join(root, 'c1', 'state.json'))]).toEqual([0o700, 0o700, 0o700, 0o600]);
    expect(readdirSync(join(root, 'c1'))).toEqual(['state.json']);
  });

  it('rewriting state.json keeps 0600 and leaves no temp file', () => {
    const store = new StateStore(join(tmp(), 'root'));
    store.createDir('c1', record('c1'));
    store.write({ ...record('c1'), started: true });
    expect(mode(join(store.root, 'c1', 'state.json'))).toBe(0o600);
    expect(readdirSync(join(store.root, 'c1'))).toEqual(['state.json']);
    expect(store.read('c1').started).toBe(true);
  });

  it('tightens a 0711 root (an older tsrun\'s) to 0700', () => {
    const root = join(tmp(), 'root');
    mkdirSync(root);
    chmodSync(root, 0o711);
    new StateStore(root).createDir('c1', record('c1'));
    expect(mode(root)).toBe(0o700);
  });

  it('leaves any other mode of an existing root alone', () => {
    for (const m of [0o755, 0o750, 0o1777]) {
      const root = join(tmp(), 'root');
      mkdirSync(root);
      chmodSync(root, m);
      new StateStore(root).createDir('c1', record('c1'));
      expect(mode(root)).toBe(m);
      expect(mode(join(root, 'c1'))).toBe(0o700);
    }
  });
});
