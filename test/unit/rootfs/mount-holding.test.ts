// mountHolding: which mount of a mountinfo holds a path (the planner makes it private when it would
// still be shared after linux.rootfsPropagation; see src/rootfs/plan.ts propagationSteps).
import { describe, expect, it } from 'vitest';
import { mountHolding } from '../../../src/rootfs/host-view.js';

const mountinfo = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '30 22 0:40 / /run rw,nosuid shared:5 - tmpfs tmpfs rw',
  '40 22 8:1 /srv /b\\040x rw master:1 - ext4 /dev/sda1 rw',
  '41 40 0:50 / /b\\040x/rootfs rw - overlay overlay rw',
  '42 40 0:51 / /b\\040x/rootfs rw shared:9 - overlay overlay rw',
  '',
].join('\n');

describe('mountHolding', () => {
  it('is the longest mount point at or above the path, the last mounted one when stacked', () => {
    expect(mountHolding(mountinfo, '/b x/rootfs')).toEqual({ mountPoint: '/b x/rootfs', shared: true });
    expect(mountHolding(mountinfo, '/b x/rootfs/etc')).toEqual({ mountPoint: '/b x/rootfs', shared: true });
    expect(mountHolding(mountinfo, '/b x/other')).toEqual({ mountPoint: '/b x', shared: false });
  });

  it('does not take a sibling with the same prefix for a parent, and falls back to /', () => {
    expect(mountHolding(mountinfo, '/running')).toEqual({ mountPoint: '/', shared: true });
    expect(mountHolding(mountinfo, '/run/x')).toEqual({ mountPoint: '/run', shared: true });
  });
});
