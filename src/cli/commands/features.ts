// tsrun features: what this runtime supports, in the shape of runc's `features` (runtime-spec
// features.md), so tools above a runtime can ask instead of guessing.
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';
import { OCI_VERSION } from '../../version.js';
import { CAPABILITY_NAMES } from '../../abi/capabilities.js';
import { SECCOMP_ACTIONS, SECCOMP_OPERATORS } from '../../seccomp/profile.js';
import { ARCHES } from '../../seccomp/syscalls.js';
import { FILTER_FLAGS } from '../../seccomp/constants.js';

export function features(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: ['ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'sync', 'async', 'dirsync', 'remount', 'mand', 'nomand',
      'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'nosymfollow', 'symfollow',
      'lazytime', 'nolazytime', 'bind', 'rbind', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: CAPABILITY_NAMES,
      cgroup: { v1: false, v2: true, systemd: true, systemdUser: false, rdma: false },
      // SCMP_ACT_NOTIFY (a listener) is not supported; archs are those with a syscall table.
      seccomp: {
        enabled: true, actions: [...SECCOMP_ACTIONS], operators: [...SECCOMP_OPERATORS], archs: Object.keys(ARCHES),
        knownFlags: Object.keys(FILTER_FLAGS), supportedFlags: Object.keys(FILTER_FLAGS),
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'org.opencontainers.runtime-spec.features.tsrun.version': '0.1.0' },
  };
}

const command: CommandModule = {
  command: 'features',
  describe: 'print the features this runtime supports as JSON',
  async handler() {
    writeSync(1, JSON.stringify(features(), null, 2) + '\n');
    return 0;
  },
};

export default command;
