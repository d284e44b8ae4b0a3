import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../../../src/oci/default-spec.js';
import type { Spec } from '../../../src/oci/types.js';
import { validateSpec } from '../../../src/oci/validate.js';

function hasRunc(): boolean {
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** What `runc spec [extra]` writes; needs no root. */
function runcSpec(extra: string[]): Spec {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-runc-spec-'));
  try {
    execFileSync('runc', ['spec', ...extra], { cwd: dir });
    return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('defaultSpec', () => {
  it('passes validation', () => {
    expect(() => validateSpec(defaultSpec())).not.toThrow();
  });

  it('passes validation when rootless', () => {
    expect(() => validateSpec(defaultSpec({ rootless: true }))).not.toThrow();
  });

  it('runs sh on a terminal in a read-only rootfs by default', () => {
    const spec = defaultSpec();
    expect(spec.process?.args).toEqual(['sh']);
    expect(spec.process?.terminal).toBe(true);
    expect(spec.root).toEqual({ path: 'rootfs', readonly: true });
    expect(spec.hostname).toBe('tsrun');
  });

  it('takes args and terminal from the options', () => {
    const spec = defaultSpec({ args: ['echo', 'hi'], terminal: false });
    expect(spec.process?.args).toEqual(['echo', 'hi']);
    expect(spec.process?.terminal).toBe(false);
  });

  it('returns a fresh object every call', () => {
    const first = defaultSpec();
    first.process?.capabilities?.bounding?.push('CAP_SYS_ADMIN');
    first.mounts?.pop();
    expect(defaultSpec()).toEqual(defaultSpec());
    expect(defaultSpec().process?.capabilities?.bounding).toHaveLength(3);
    expect(defaultSpec().mounts).toHaveLength(7);
  });

  it('rootless: maps root to the calling user in a new user namespace', () => {
    const linux = defaultSpec({ rootless: true }).linux;
    expect(linux?.namespaces?.map((ns) => ns.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'user']);
    expect(linux?.uidMappings).toEqual([{ containerID: 0, hostID: process.geteuid!(), size: 1 }]);
    expect(linux?.gidMappings).toEqual([{ containerID: 0, hostID: process.getegid!(), size: 1 }]);
    expect(linux?.resources).toBeUndefined();
  });

  it('rootless: binds /sys, drops the cgroup mount and the devpts tty group', () => {
    const mounts = defaultSpec({ rootless: true }).mounts ?? [];
    expect(mounts.find((m) => m.destination === '/sys')).toEqual({
      destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
    });
    expect(mounts.find((m) => m.destination === '/sys/fs/cgroup')).toBeUndefined();
    expect(mounts.find((m) => m.destination === '/dev/pts')?.options).not.toContain('gid=5');
  });
});

describe.skipIf(!hasRunc())('defaultSpec compared with runc spec', () => {
  it('equals `runc spec` apart from the hostname', () => {
    expect({ ...defaultSpec(), hostname: 'runc' }).toEqual(runcSpec([]));
  });

  it('equals `runc spec --rootless` apart from the hostname and the cgroup mount', () => {
    const runc = runcSpec(['--rootless']);
    runc.mounts = runc.mounts?.filter((m) => m.type !== 'cgroup');
    expect({ ...defaultSpec({ rootless: true }), hostname: 'runc' }).toEqual(runc);
  });
});
