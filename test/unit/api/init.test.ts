import { describe, expect, it } from 'vitest';
import { INIT_PATH, withInit } from '../../../src/api/init.js';
import { defaultSpec } from '../../../src/oci/default-spec.js';
import type { Spec } from '../../../src/oci/types.js';

const base = (): Spec => {
  const s = defaultSpec() as Spec;
  s.process!.args = ['sleep', '10'];
  return s;
};

describe('withInit', () => {
  it('puts the init in front of process.args and binds it read-only at /dev/init after the /dev tmpfs', () => {
    const config = base();
    const before = JSON.stringify(config);
    const out = withInit(config, '/opt/tsrun/tsrun-init');
    expect(out.process!.args).toEqual([INIT_PATH, 'init', '--', 'sleep', '10']);
    const mounts = out.mounts!;
    const bind = mounts[mounts.length - 1]!;
    expect(bind).toEqual({ destination: '/dev/init', type: 'bind', source: '/opt/tsrun/tsrun-init', options: ['bind', 'ro', 'nosuid', 'nodev'] });
    expect(mounts.findIndex((m) => m.destination === '/dev')).toBeLessThan(mounts.length - 1);
    expect(JSON.stringify(config)).toBe(before); // pure
    expect(withInit(out, '/opt/tsrun/tsrun-init')).toBe(out); // once is enough
  });

  it('refuses a config without a /dev tmpfs, or with /dev/init taken, naming the field', () => {
    const noDev = base();
    noDev.mounts = noDev.mounts!.filter((m) => m.destination !== '/dev');
    expect(() => withInit(noDev, '/x')).toThrow(/^mounts: .*tmpfs at \/dev/);
    const taken = base();
    taken.mounts!.push({ destination: '/dev/init/', type: 'tmpfs', source: 'tmpfs' });
    expect(() => withInit(taken, '/x')).toThrow(/^mounts\[\d+\]\.destination: /);
    const noArgs = base();
    noArgs.process!.args = [];
    expect(() => withInit(noArgs, '/x')).toThrow(/^process\.args: /);
  });

  it('refuses CAP_SYS_ADMIN without a user namespace (it could remount the bind writable), accepts it in one', () => {
    const admin = base();
    admin.process!.capabilities = { ...admin.process!.capabilities, bounding: ['CAP_SYS_ADMIN'] };
    expect(() => withInit(admin, '/x')).toThrow(/^process\.capabilities\.bounding: .*CAP_SYS_ADMIN/);
    admin.linux!.namespaces = [...(admin.linux!.namespaces ?? []), { type: 'user' }];
    expect(withInit(admin, '/x').process!.args![0]).toBe(INIT_PATH);
  });
});
