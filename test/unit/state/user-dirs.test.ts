import { describe, expect, it } from 'vitest';
import { defaultStateRoot, defaultStoreDir, type UserFacts } from '../../../src/state/user-dirs.js';

const facts = (euid: number, env: NodeJS.ProcessEnv, owners: Record<string, number> = {}, initial = true): UserFacts => ({
  euid, env, passwdHome: () => '/home/u', ownerOf: (p) => owners[p], initialUserNamespace: () => initial,
});

describe('per-user state root and store', () => {
  it('root keeps the machine-wide places whatever its environment', () => {
    expect(defaultStateRoot(facts(0, { XDG_RUNTIME_DIR: '/run/user/0' }))).toBe('/run/tsrun');
    expect(defaultStoreDir(facts(0, { HOME: '/root' }))).toBe('/var/lib/tsrun');
  });
  it('a user: $XDG_RUNTIME_DIR/tsrun, store in its own ~/.local/share', () => {
    const f = facts(1000, { XDG_RUNTIME_DIR: '/run/user/1000', HOME: '/home/u' }, { '/home/u': 1000 });
    expect(defaultStateRoot(f)).toBe('/run/user/1000/tsrun');
    expect(defaultStoreDir(f)).toBe('/home/u/.local/share/tsrun');
  });
  it('without XDG_RUNTIME_DIR: under ~/.local/share; a $HOME the user does not own (setpriv, su) is not its home', () => {
    const f = facts(1000, { HOME: '/root' }, { '/root': 0 });
    expect(defaultStateRoot(f)).toBe('/home/u/.local/share/tsrun/state');
    expect(defaultStoreDir(f)).toBe('/home/u/.local/share/tsrun');
  });
  it('XDG_DATA_HOME is honoured, a relative XDG path ignored', () => {
    const f = facts(1000, { XDG_DATA_HOME: '/data', XDG_RUNTIME_DIR: 'relative' });
    expect(defaultStateRoot(f)).toBe('/data/tsrun/state');
    expect(defaultStoreDir(f)).toBe('/data/tsrun');
  });
  it('uid 0 of a user namespace with $XDG_RUNTIME_DIR (podman\'s rootless runtime) is a user, as runc decides', () => {
    const f = facts(0, { XDG_RUNTIME_DIR: '/run/user/1000', HOME: '/home/u', USER: 'u' }, { '/home/u': 0 }, false);
    expect(defaultStateRoot(f)).toBe('/run/user/1000/tsrun');
    expect(defaultStoreDir(f)).toBe('/home/u/.local/share/tsrun');
    expect(defaultStateRoot(facts(0, { USER: 'u' }, {}, false))).toBe('/run/tsrun');
    expect(defaultStateRoot(facts(0, { XDG_RUNTIME_DIR: '/run/user/0', USER: 'root' }, {}, false))).toBe('/run/tsrun');
  });
});
