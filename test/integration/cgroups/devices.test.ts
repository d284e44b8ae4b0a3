// Device rules enforced by the eBPF program tsrun generates, on this host's v2 hierarchy. Block devices
// cannot be opened here even by root, so char devices stand in: loop-control (10:237) and /dev/null.
import { closeSync, existsSync, openSync, constants } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BpfError, loadDeviceProgram, queryDevicePrograms } from '../../../src/native/bpf.js';
import { cannotRun, cleanUp, host, makeCgroup, shellIn, skipNote, specWith, testName, track } from './support.js';
import { applyCgroup, planCgroup } from '../../../src/cgroups/index.js';
import type { CgroupHandle } from '../../../src/cgroups/index.js';

afterEach(cleanUp);

/** Tries to open each device for reading and writing from a shell inside the cgroup; "path ok" or "path denied". */
async function tryOpen(cg: CgroupHandle, paths: string[]): Promise<{ stdout: string; stderr: string }> {
  // dash reports a failed redirection as "cannot open PATH: <strerror>" on stderr.
  const script = paths.map((p) => `if (exec 3<>${p}); then echo "${p} ok"; else echo "${p} denied"; fi`).join('\n');
  const sh = shellIn(cg, script);
  const done = await sh.finished;
  return { stdout: done.stdout, stderr: done.stderr };
}

/**
 * The device to deny: loop-control (10:237) on the hosts; where the loop module is not loaded (the VM
 * lane's kernel), /dev/kmsg (1:11), which root can also open. The other one, if present, is a second
 * device outside the default allow list.
 */
const CANDIDATES = [
  { path: '/dev/loop-control', major: 10, minor: 237 },
  { path: '/dev/kmsg', major: 1, minor: 11 },
].filter((d) => existsSync(d.path));
const target = CANDIDATES[0] ?? { path: '/dev/loop-control', major: 10, minor: 237 };
const others = CANDIDATES.slice(1).map((d) => d.path);
const denied = (path: string): RegExp => new RegExp(`${path.slice(5)}: Operation not permitted`);

describe.skipIf(cannotRun() || CANDIDATES.length === 0)(`device rules via BPF_PROG_TYPE_CGROUP_DEVICE${skipNote([])}`, () => {
  it(`denies char ${target.major}:${target.minor} (${target.path}) with EPERM while /dev/null still works`, async () => {
    // Opening the device works here outside the cgroup, so a refusal inside can only come from our program.
    closeSync(openSync(target.path, constants.O_RDWR));
    const cg = makeCgroup('dev-deny', { devices: [{ allow: false, type: 'c', major: target.major, minor: target.minor, access: 'rwm' }] });
    const fd = openSync(cg.dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      expect(queryDevicePrograms(fd)).toHaveLength(1);
    } finally {
      closeSync(fd);
    }
    const { stdout, stderr } = await tryOpen(cg, [target.path, '/dev/null']);
    expect(stdout).toBe(`${target.path} denied\n/dev/null ok\n`);
    expect(stderr).toMatch(denied(target.path));
  });

  it('runc spec\'s default (deny all, then the standard allow list) allows only the standard devices', async () => {
    const cg = makeCgroup('dev-default', { devices: [{ allow: false, access: 'rwm' }] });
    const allowed = ['/dev/null', '/dev/zero', '/dev/full', '/dev/urandom', '/dev/random'];
    const { stdout, stderr } = await tryOpen(cg, [...allowed, ...CANDIDATES.map((d) => d.path)]);
    expect(stdout).toBe([...allowed.map((p) => `${p} ok`), ...CANDIDATES.map((d) => `${d.path} denied`), ''].join('\n'));
    expect(stderr).toMatch(denied(target.path));
  });

  it('does not allow a device just because linux.devices lists it (as runc: only a rule allows it)', async () => {
    const cg = makeCgroup('dev-listed', { devices: [{ allow: false, access: 'rwm' }] }, {
      devices: [{ type: 'c', path: target.path, major: target.major, minor: target.minor }],
    });
    const { stdout } = await tryOpen(cg, [target.path, ...others]);
    expect(stdout).toBe([`${target.path} denied`, ...others.map((p) => `${p} denied`), ''].join('\n'));
  });

  it('honours per-access rules: denying w leaves r allowed', async () => {
    const cg = makeCgroup('dev-ro', { devices: [{ allow: false, type: 'c', major: target.major, minor: target.minor, access: 'w' }] });
    const sh = shellIn(cg, [
      `if (exec 3<${target.path}); then echo read ok; else echo read denied; fi`,
      `if (exec 3>${target.path}); then echo write ok; else echo write denied; fi`,
    ].join('\n'));
    const done = await sh.finished;
    expect(done.stdout).toBe('read ok\nwrite denied\n');
    expect(done.stderr).toMatch(/Operation not permitted/);
  });

  it('cannot be used to deny the default devices: tsrun\'s allow list comes last', async () => {
    const cg = makeCgroup('dev-null', { devices: [{ allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }] });
    const { stdout } = await tryOpen(cg, ['/dev/null']);
    expect(stdout).toBe('/dev/null ok\n');
  });

  it('replaces the rules of a live cgroup (for update): remove the program, then put one back', async () => {
    const cg = makeCgroup('dev-update', { devices: [{ allow: false, type: 'c', major: target.major, minor: target.minor, access: 'rwm' }] });
    const programs = (): number => {
      const fd = cg.openDirFd();
      try {
        return queryDevicePrograms(fd).length;
      } finally {
        closeSync(fd);
      }
    };
    expect((await tryOpen(cg, [target.path])).stdout).toBe(`${target.path} denied\n`);
    cg.setDeviceRules(null);
    expect(programs()).toBe(0);
    expect((await tryOpen(cg, [target.path])).stdout).toBe(`${target.path} ok\n`);
    cg.setDeviceRules([{ allow: false, type: 'c', major: target.major, minor: target.minor, access: 'rwm' }]);
    cg.setDeviceRules([{ allow: false, type: 'a', major: null, minor: null, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]);
    expect(programs()).toBe(1);
    expect((await tryOpen(cg, [target.path, '/dev/null', '/dev/zero'])).stdout).toBe(`${target.path} denied\n/dev/null ok\n/dev/zero denied\n`);
  });

  it('replaces device programs left on a reused, empty cgroup instead of stacking on them', async () => {
    const deny = { allow: false, type: 'c' as const, major: target.major, minor: target.minor, access: 'rwm' };
    const first = makeCgroup('dev-reuse', { devices: [deny] });
    const second = makeCgroup('dev-reuse', {}); // same path, no rules: everything allowed again
    expect(second.dir).toBe(first.dir);
    const fd = second.openDirFd();
    try {
      expect(queryDevicePrograms(fd)).toEqual([]);
    } finally {
      closeSync(fd);
    }
    expect((await tryOpen(second, [target.path])).stdout).toBe(`${target.path} ok\n`);
  });

  it('with deferDevices, the program is loaded by loadDevices and takes effect only at attachDevices', async () => {
    const deny = { allow: false, type: 'c' as const, major: target.major, minor: target.minor, access: 'rwm' };
    const old = makeCgroup('dev-defer', {}); // a reused cgroup that still carries a program
    old.setDeviceRules([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]);
    const spec = specWith({ devices: [deny] }, { cgroupsPath: `/${testName('dev-defer')}` });
    const cg = track(applyCgroup(planCgroup(spec, testName('dev-defer'), host!), undefined, { deferDevices: true }));
    const attached = (): number[] => {
      const fd = cg.openDirFd();
      try { return queryDevicePrograms(fd); } finally { closeSync(fd); }
    };
    const before = attached();
    expect(before).toHaveLength(1); // only the old one: nothing of ours yet
    cg.loadDevices();
    expect(attached()).toEqual(before);
    expect((await tryOpen(cg, [target.path])).stdout).toBe(`${target.path} ok\n`);
    cg.attachDevices();
    const after = attached();
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before); // ours replaced the old one, which is detached
    const { stdout } = await tryOpen(cg, [target.path, '/dev/null']);
    expect(stdout).toBe(`${target.path} denied\n/dev/null ok\n`);
  });

  it('new cgroups with the same rules share one loaded program, which keeps applying after one of them is gone', async () => {
    // The library makes container after container from one process: the verifier runs once per rule set.
    const deny = { allow: false, type: 'c' as const, major: target.major, minor: target.minor, access: 'rwm' };
    const fresh = (what: string): CgroupHandle => {
      const spec = specWith({ devices: [deny] }, { cgroupsPath: `/${testName(what)}` });
      const cg = track(applyCgroup(planCgroup(spec, testName(what), host!), undefined, { deferDevices: true }));
      cg.loadDevices();
      cg.attachDevices();
      return cg;
    };
    const attached = (cg: CgroupHandle): number[] => {
      const fd = cg.openDirFd();
      try { return queryDevicePrograms(fd); } finally { closeSync(fd); }
    };
    const first = fresh('dev-share-a');
    const second = fresh('dev-share-b');
    expect(attached(first)).toHaveLength(1);
    expect(attached(second)).toEqual(attached(first));
    await first.destroy(5000);
    const { stdout } = await tryOpen(second, [target.path, '/dev/null']);
    expect(stdout).toBe(`${target.path} denied\n/dev/null ok\n`);
    // A third one still gets it (the shared fd was not closed with the first cgroup).
    expect(attached(fresh('dev-share-c'))).toEqual(attached(second));
  });

  it('reports the verifier\'s reason when the kernel refuses a program', () => {
    // "exit" alone returns an uninitialised r0, which the verifier rejects.
    let error: unknown;
    try {
      loadDeviceProgram(Buffer.from('9500000000000000', 'hex'));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BpfError);
    expect((error as BpfError).errno).toBe('EACCES');
    expect((error as BpfError).verifierLog).toMatch(/R0 !read_ok/);
  });
});
