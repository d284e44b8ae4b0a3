// hostCapabilities() on this machine, checked against what the kernel says directly.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostCapabilities, LIMIT_CONTROLLERS } from '../../../src/api/host-capabilities.js';

describe('hostCapabilities', () => {
  it('matches /proc and the cgroup v2 root of this host', async () => {
    const caps = await hostCapabilities();
    for (const ns of ['mnt', 'pid', 'net', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const) {
      expect(caps.namespaces[ns], ns).toBe(existsSync(`/proc/self/ns/${ns}`) && readFileSync(`/proc/sys/user/max_${ns}_namespaces`, 'utf8').trim() !== '0');
    }
    const v2 = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' - ')).find((p) => p[1]?.startsWith('cgroup2 '));
    expect(caps.cgroup.v2MountPoint).toBe(v2?.[0]!.split(' ')[4]);
    const controllers = caps.cgroup.v2MountPoint ? readFileSync(join(caps.cgroup.v2MountPoint, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean) : [];
    expect(caps.cgroup.available).toEqual(controllers);
    for (const c of LIMIT_CONTROLLERS) expect(caps.cgroup.controllers[c], c).toBe(controllers.includes(c));
    expect(caps.overlay.available).toBe(/\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8')));
    expect(caps.privileged).toBe(process.getuid?.() === 0);
    expect(caps.canRunContainers).toBe(process.getuid?.() === 0 || caps.userNamespaces.unprivileged);
    expect(JSON.parse(JSON.stringify(caps))).toEqual(caps); // plain data
  });
});
