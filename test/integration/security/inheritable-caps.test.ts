// Class: capabilities gained at exec through the inheritable set (CVE-2022-29162, runc
// GHSA-f3fp-gc8g-vw66; crun CVE-2022-27650, GHSA-wr4f-w546-m398). runc and crun put the capabilities
// of `exec --cap` (and of their default specs) into the inheritable set too; a non-root process then
// gained them by executing any program carrying them as *file* inheritable capabilities, past the
// configured permitted set. tsrun sets inheritable only from process.capabilities.inheritable, and
// `exec --cap` adds to bounding, effective and permitted only. The attack: an image ships a copy of
// busybox with CAP_NET_ADMIN as a file inheritable capability, run by uid 1000 without
// no_new_privs (which would ignore file capabilities anyway).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, runBundle } from '../../helpers/bundle.js';
import { cleanupLifecycle, makeRoot, mustCreateAndStart, tsrun, uniqueId } from '../../helpers/lifecycle.js';
import { hostileBundle, statusRecord } from './audit-support.js';

const skip = cannotRunContainers();
const NET_ADMIN = 1n << 12n;

/** /capbin/cat: busybox with CAP_NET_ADMIN as a file inheritable capability (+effective). */
function plantCapBinary(rootfs: string): void {
  mkdirSync(join(rootfs, 'capbin'));
  const bin = join(rootfs, 'capbin/cat');
  copyFileSync(realpathSync(join(rootfs, 'bin/busybox')), bin);
  // struct vfs_cap_data, revision 2: magic|effective flag, then {permitted, inheritable} × 2 (le32).
  const caps = Buffer.alloc(20);
  caps.writeUInt32LE(0x02000001, 0);
  caps.writeUInt32LE(Number(NET_ADMIN), 8);
  execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "security.capability", bytes.fromhex(sys.argv[2]))', bin, caps.toString('hex')]);
}

/** A non-root process without no_new_privs, and CAP_NET_ADMIN in its bounding set. */
function nonRoot(spec: Spec, inheritable: string[] = []): void {
  spec.process!.user = { uid: 1000, gid: 1000 };
  spec.process!.noNewPrivileges = false;
  const caps = spec.process!.capabilities!;
  caps.bounding = [...caps.bounding!, 'CAP_NET_ADMIN'];
  caps.inheritable = inheritable;
}

const eff = (text: string): bigint => BigInt(`0x${statusRecord(text)['CapEff'] ?? 'x'}`);

describe.skipIf(skip !== undefined)(`security: inheritable capabilities${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  it('run: a program with file inheritable capabilities gains nothing when the config lists none', async () => {
    const bundle = hostileBundle('grep -E "^Cap(Inh|Amb)" /proc/self/status; /capbin/cat /proc/self/status | grep CapEff', {
      hostile: plantCapBinary, mutate: (s) => nonRoot(s),
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(statusRecord(r.stdout)).toMatchObject({ CapInh: '0000000000000000', CapAmb: '0000000000000000' });
    expect(eff(r.stdout)).toBe(0n);
  });

  it('run: the same program does gain it when the config lists it as inheritable (so the test above can fail)', async () => {
    const bundle = hostileBundle('/capbin/cat /proc/self/status | grep CapEff', {
      hostile: plantCapBinary, mutate: (s) => nonRoot(s, ['CAP_NET_ADMIN']),
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(eff(r.stdout) & NET_ADMIN).toBe(NET_ADMIN);
  });

  it('exec --cap CAP_NET_ADMIN (as uid 1000): inheritable and ambient stay empty, and the program gains nothing', async () => {
    const root = makeRoot();
    const id = uniqueId('inh-caps');
    const bundle = hostileBundle('sleep 100000', { hostile: plantCapBinary, mutate: (s) => nonRoot(s) });
    await mustCreateAndStart(root, bundle, id);
    const own = await tsrun(root, ['exec', '--cap', 'CAP_NET_ADMIN', id, 'grep', '-E', '^Cap(Inh|Bnd|Amb)', '/proc/self/status']);
    expect(own.stderr).toBe('');
    const caps = statusRecord(own.stdout);
    expect(caps).toMatchObject({ CapInh: '0000000000000000', CapAmb: '0000000000000000' });
    expect(BigInt(`0x${caps['CapBnd']}`) & NET_ADMIN).toBe(NET_ADMIN);
    const child = await tsrun(root, ['exec', '--cap', 'CAP_NET_ADMIN', id, 'sh', '-c', '/capbin/cat /proc/self/status | grep CapEff']);
    expect(child.stderr).toBe('');
    expect(eff(child.stdout)).toBe(0n);
  });
});
