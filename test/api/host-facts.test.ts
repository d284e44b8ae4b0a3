// The library reads the host's mount table once and again only when it changes (src/api/host-facts.ts):
// the planner's view of it must follow every mount and unmount, or a plan would be made for a mount
// table that is gone (the mount holding a rootfs decides whether its propagation must be changed).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupHostOfProcess, hostViewOfProcess } from '../../src/api/host-facts.js';
import { detectCgroupHost } from '../../src/cgroups/index.js';
import { skipReason } from './helpers.js';

describe.skipIf(skipReason)('the library\'s view of the mount table', () => {
  it('sees a mount made, and its unmount, after it was first read', () => {
    const dir = mkdtempSync(join('/tmp', 'tsrun-host-facts-'));
    try {
      const before = hostViewOfProcess.mountOf!(dir);
      expect(before?.mountPoint).not.toBe(dir);
      execFileSync('mount', ['--bind', dir, dir]);
      try {
        expect(hostViewOfProcess.mountOf!(dir)?.mountPoint).toBe(dir);
        // The cgroup host is read from the same table, and still found.
        expect(cgroupHostOfProcess().mountPoint).toBe(detectCgroupHost().mountPoint);
      } finally {
        execFileSync('umount', [dir]);
      }
      expect(hostViewOfProcess.mountOf!(dir)).toEqual(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
