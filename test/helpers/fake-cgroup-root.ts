// A cgroup v2 "hierarchy" that is a plain temp directory, for unit tests of the code that makes and
// removes cgroups (as the snapshot rehearsal points create at one): mkdir, limit files, rmdir happen
// there. In a test file that mocks node:fs with fake-cgroupfs.ts it behaves as cgroupfs does
// (interface files, cgroup.kill, EBUSY); without, it is a plain directory tree.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { detectCgroupHost, type CgroupHost } from '../../src/cgroups/index.js';
import { registerCgroupRoot, unregisterCgroupRoot } from './fake-cgroupfs.js';

export interface FakeCgroupRoot {
  /** Where the hierarchy is "mounted". */
  root: string;
  /** For createContainer's `cgroupHost`: this hierarchy, as detectCgroupHost reads it from mountinfo. */
  host: () => CgroupHost;
  /** Every directory below the root (relative), i.e. the cgroups that exist. */
  cgroups(): string[];
  remove(): void;
}

/** A hybrid host's mountinfo with its cgroup2 mount at `root`. */
function mountInfoWithCgroup2At(root: string): string {
  return [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    `31 22 0:27 / ${root} rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate`,
  ].join('\n');
}

export function fakeCgroupRoot(controllers: string[] = ['pids', 'memory']): FakeCgroupRoot {
  const root = join(mkdtempSync(join(tmpdir(), 'tsrun-fake-cgroup-')), 'cgroup2');
  mkdirSync(root);
  writeFileSync(join(root, 'cgroup.controllers'), `${controllers.join(' ')}\n`);
  writeFileSync(join(root, 'cgroup.subtree_control'), '');
  registerCgroupRoot(root);
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? [relative(root, p), ...walk(p)] : [];
  });
  return {
    root,
    host: () => detectCgroupHost(mountInfoWithCgroup2At(root)),
    cgroups: () => walk(root),
    remove: () => {
      unregisterCgroupRoot(root);
      rmSync(join(root, '..'), { recursive: true, force: true });
    },
  };
}
