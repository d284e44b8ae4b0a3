// Class: OCI hooks as a way out. The runtime-spec says a startContainer hook's path resolves in the
// *container's* mount namespace, so a hostile image chooses the program; runc runs it from its init
// after the privilege drop, with the container process's capabilities, no_new_privs, seccomp filter
// and cgroup (standard_init_linux.go). A createContainer hook's path resolves in the runtime
// namespace (host). Hooks of the runtime namespace get only the environment the config gives them.
// The attack: an image ships the program a startContainer hook names and reads what it was given.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, runBundle } from '../../helpers/bundle.js';
import { cleanupLifecycle } from '../../helpers/lifecycle.js';
import { hostileBundle, hostScratch, removeScratch, STATUS_LINES, statusRecord } from './audit-support.js';

const skip = cannotRunContainers();
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

describe.skipIf(skip !== undefined)(`security: hook privileges${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);
  afterEach(removeScratch);

  it('a startContainer hook shipped by the image runs with the container process\'s capabilities, no_new_privs, seccomp filter and cgroup', async () => {
    const bundle = hostileBundle(`{ ${STATUS_LINES}; } > /process.txt`, {
      // The image's own program at the path the hook names: it records what it was given.
      hostile: (rootfs) => writeFileSync(join(rootfs, 'hook.sh'), `#!/bin/sh\n{ ${STATUS_LINES}; } > /hook.txt 2>&1\n`, { mode: 0o755 }),
      mutate: (spec) => {
        spec.process!.noNewPrivileges = true;
        // A filter that allows everything but one harmless syscall, so "Seccomp: 2" shows it is installed.
        spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['acct'], action: 'SCMP_ACT_ERRNO' }] };
        spec.hooks = { startContainer: [{ path: '/hook.sh', args: ['hook.sh'], env: [PATH] }] };
      },
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const container = statusRecord(readFileSync(join(bundle.rootfs, 'process.txt'), 'utf8'));
    const hook = statusRecord(readFileSync(join(bundle.rootfs, 'hook.txt'), 'utf8'));
    // The sample's sets: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE (not CAP_SYS_ADMIN, CAP_MKNOD…).
    expect(container['CapEff']).toBe('0000000020000420');
    expect({ eff: hook['CapEff'], prm: hook['CapPrm'], bnd: hook['CapBnd'], inh: hook['CapInh'] })
      .toEqual({ eff: container['CapEff'], prm: container['CapPrm'], bnd: container['CapBnd'], inh: container['CapInh'] });
    expect(hook['NoNewPrivs']).toBe('1');
    expect(hook['Seccomp']).toBe('2');
    // In the container's cgroup, where its device rules and limits apply, not in tsrun's.
    expect(hook['0']).toBe(container['0']);
    expect(hook['0']).toMatch(/\/tsrun\//);
  });

  it('a startContainer hook runs as the container\'s user', async () => {
    const bundle = hostileBundle('true', {
      hostile: (rootfs) => writeFileSync(join(rootfs, 'hook.sh'), '#!/bin/sh\nid -u > /tmp/hook-uid\n', { mode: 0o755 }),
      mutate: (spec) => {
        spec.process!.user = { uid: 1000, gid: 1000 };
        spec.hooks = { startContainer: [{ path: '/hook.sh', args: ['hook.sh'], env: [PATH] }] };
      },
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(bundle.rootfs, 'tmp/hook-uid'), 'utf8')).toBe('1000\n');
  });

  it('a createContainer hook\'s path resolves on the host: a program of the image at the same path is not run', async () => {
    const host = hostScratch('hook');
    const hookPath = join(host, 'hook.sh');
    writeFileSync(hookPath, `#!/bin/sh\necho host-hook > ${join(host, 'ran')}\n`, { mode: 0o755 });
    const bundle = hostileBundle('true', {
      // The image plants its own program at the host hook's path, inside the rootfs.
      hostile: (rootfs) => {
        const planted = join(rootfs, host);
        mkdirSync(planted, { recursive: true });
        writeFileSync(join(planted, 'hook.sh'), `#!/bin/sh\necho image-hook > ${join(host, 'ran')}\n`, { mode: 0o755 });
      },
      mutate: (spec) => { spec.hooks = { createContainer: [{ path: hookPath, args: ['hook.sh'], env: [PATH] }] }; },
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(host, 'ran'), 'utf8')).toBe('host-hook\n');
  });

  it('hooks of the runtime namespace get only hooks[].env: neither tsrun\'s environment nor process.env', async () => {
    const host = hostScratch('hook-env');
    const bundle = hostileBundle('true', {
      mutate: (spec) => {
        spec.process!.env = [...(spec.process!.env ?? []), 'CONTAINER_SECRET=in-the-container'];
        spec.hooks = {
          prestart: [{ path: '/bin/sh', args: ['sh', '-c', `env > ${join(host, 'prestart.env')}`], env: [PATH, 'HOOK_VAR=given'] }],
          poststop: [{ path: '/bin/sh', args: ['sh', '-c', `env > ${join(host, 'poststop.env')}`] }],
        };
      },
    });
    const r = await runBundle(bundle, [], { env: { ...process.env as Record<string, string>, TSRUN_CALLER_SECRET: 'of-the-caller' } });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const prestart = readFileSync(join(host, 'prestart.env'), 'utf8');
    const poststop = readFileSync(join(host, 'poststop.env'), 'utf8');
    expect(prestart).toMatch(/^HOOK_VAR=given$/m);
    for (const env of [prestart, poststop]) {
      expect(env).not.toMatch(/TSRUN_CALLER_SECRET|CONTAINER_SECRET/);
    }
  });
});
