// linux.seccomp on real containers: the filter tsrun compiles is installed by the shim and enforced
// by the kernel (actions, errnoRet, argument rules, SIGSYS), and podman's default profile runs a shell.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Seccomp, Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, runScript } from '../../helpers/bundle.js';
import { cleanupLifecycle, makeRoot, runDetachedIn, scriptBundle, tsrun, uniqueId } from '../../helpers/lifecycle.js';
import { podmanDefaultProfile } from '../../helpers/podman-seccomp.js';

const skip = cannotRunContainers();

const withProfile = (seccomp: Seccomp, more: (s: Spec) => void = () => {}) => (s: Spec): void => { s.linux!.seccomp = seccomp; more(s); };
const denyMkdir = (action: string, errnoRet?: number): Seccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action, ...(errnoRet !== undefined ? { errnoRet } : {}) }],
});

describe.skipIf(skip !== undefined)(`tsrun run: linux.seccomp${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  it('SCMP_ACT_ERRNO fails mkdir with EPERM while everything else works; the process is in filter mode', async () => {
    const r = await runScript('mkdir /tmp/x; echo rc=$?; echo hi > /tmp/f && cat /tmp/f; grep "^Seccomp:" /proc/self/status', {
      mutate: withProfile(denyMkdir('SCMP_ACT_ERRNO')),
    });
    expect(r.stderr).toMatch(/mkdir: can't create directory '\/tmp\/x': Operation not permitted/);
    expect(r.stdout).toBe('rc=1\nhi\nSeccomp:\t2\n');
    expect(r.exitCode).toBe(0);
  });

  it('errnoRet is the errno the syscall fails with', async () => {
    const r = await runScript('mkdir /tmp/x; echo rc=$?', { mutate: withProfile(denyMkdir('SCMP_ACT_ERRNO', 28)) });
    expect(r.stderr).toMatch(/No space left on device/);
    expect(r.stdout).toBe('rc=1\n');
  });

  it('an argument rule matches only its arguments: kill(pid, SIGTERM) refused, kill(pid, SIGKILL) allowed', async () => {
    const r = await runScript('sleep 100 & p=$!; kill -TERM $p; echo term=$?; kill -KILL $p; echo kill=$?; wait $p; echo waited=$?', {
      mutate: withProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 15, op: 'SCMP_CMP_EQ' }] }] }),
    });
    expect(r.stderr).toMatch(/Operation not permitted/);
    expect(r.stdout).toBe('term=1\nkill=0\nwaited=137\n');
  });

  it('SCMP_ACT_KILL_PROCESS kills the process with SIGSYS: exit 128+31', async () => {
    const r = await runScript('', { mutate: withProfile(denyMkdir('SCMP_ACT_KILL_PROCESS'), (s) => { s.process!.args = ['mkdir', '/tmp/x']; }) });
    expect(r.exitCode).toBe(128 + 31);
  });

  it.each([true, false])('podman\'s default profile runs a busybox shell normally (noNewPrivileges %s)', async (nnp) => {
    const r = await runScript('id -u; echo hi > /tmp/f; cat /tmp/f; ls / | grep -c . >/dev/null; ps -o pid= | wc -l >/dev/null; grep "^Seccomp:" /proc/self/status', {
      mutate: withProfile(podmanDefaultProfile(), (s) => { s.process!.noNewPrivileges = nnp; }),
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0\nhi\nSeccomp:\t2\n');
    expect(r.exitCode).toBe(0);
  });

  it('a profile that refuses execve fails at the exec step, naming it', async () => {
    const r = await runScript('true', { mutate: withProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['execve'], action: 'SCMP_ACT_ERRNO' }] }) });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/execve.*EPERM|EPERM.*execve/);
  });

  it('an unsupported field is refused before anything runs, naming it', async () => {
    const r = await runScript('true', { mutate: withProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }) });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/linux\.seccomp\.syscalls\[0\]\.action: SCMP_ACT_NOTIFY is not supported/);
  });

  it('tsrun exec runs its process under the container\'s filter too', async () => {
    const root = makeRoot();
    const id = uniqueId('seccomp');
    const bundle = scriptBundle('sleep 100000 & wait', withProfile(denyMkdir('SCMP_ACT_ERRNO')));
    const started = await runDetachedIn(root, bundle, id);
    expect(started.exitCode).toBe(0);
    const r = await tsrun(root, ['exec', id, 'sh', '-c', 'mkdir /tmp/y; echo rc=$?; grep "^Seccomp:" /proc/self/status']);
    expect(r.stderr).toMatch(/Operation not permitted/);
    expect(r.stdout).toBe('rc=1\nSeccomp:\t2\n');
  });
});
