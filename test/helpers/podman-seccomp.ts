// podman's default seccomp profile as podman hands it to a runtime: containers-common ships it in
// docker's format (archMap, includes/excludes by arch and capability); podman turns it into OCI
// linux.seccomp for the host's arch and the container's capabilities. This does the same for amd64
// and podman's default capabilities. The fixture is /usr/share/containers/seccomp.json of Debian's
// golang-github-containers-common (Apache-2.0), copied so the tests do not depend on the host.
import { readFileSync } from 'node:fs';
import type { Seccomp, SeccompSyscall } from '../../src/oci/types.js';

export const PODMAN_DEFAULT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT'];

interface DockerRule extends SeccompSyscall {
  includes?: { arches?: string[]; caps?: string[] };
  excludes?: { arches?: string[]; caps?: string[] };
}

interface DockerProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap: { architecture: string; subArchitectures: string[] }[];
  syscalls: DockerRule[];
}

export function podmanDefaultProfile(caps: string[] = PODMAN_DEFAULT_CAPS): Seccomp {
  const raw = JSON.parse(readFileSync(new URL('../fixtures/seccomp/containers-common.json', import.meta.url), 'utf8')) as DockerProfile;
  const arch = raw.archMap.find((a) => a.architecture === 'SCMP_ARCH_X86_64')!;
  const included = raw.syscalls.filter((r) => {
    if (r.includes?.arches && !r.includes.arches.includes('amd64')) return false;
    if (r.includes?.caps && !r.includes.caps.every((c) => caps.includes(c))) return false;
    if (r.excludes?.arches?.includes('amd64')) return false;
    if (r.excludes?.caps?.some((c) => caps.includes(c))) return false;
    return true;
  });
  return {
    defaultAction: raw.defaultAction,
    ...(raw.defaultErrnoRet !== undefined ? { defaultErrnoRet: raw.defaultErrnoRet } : {}),
    architectures: [arch.architecture, ...arch.subArchitectures],
    syscalls: included.map((r) => ({
      names: r.names, action: r.action,
      ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
      ...(r.args?.length ? { args: r.args } : {}),
    })),
  };
}
