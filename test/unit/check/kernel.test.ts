import { describe, expect, it } from 'vitest';
import { kernelAtLeast, parseKernelRelease, probeKernel } from '../../../src/check/kernel.js';

describe('parseKernelRelease', () => {
  it('reads the leading version of distribution release strings', () => {
    expect(parseKernelRelease('6.18.44-fc-v769')).toEqual({ major: 6, minor: 18, patch: 44 });
    expect(parseKernelRelease('6.1.0-13-amd64')).toEqual({ major: 6, minor: 1, patch: 0 });
    expect(parseKernelRelease('5.15')).toEqual({ major: 5, minor: 15, patch: 0 });
    expect(parseKernelRelease('weird')).toBeUndefined();
  });

  it('compares major.minor numerically, not as strings', () => {
    expect(kernelAtLeast(parseKernelRelease('5.10.0'), 5, 7)).toBe(true);
    expect(kernelAtLeast(parseKernelRelease('5.4.0'), 5, 7)).toBe(false);
    expect(kernelAtLeast(parseKernelRelease('4.19.0'), 5, 3)).toBe(false);
    expect(kernelAtLeast(undefined, 9, 9)).toBe(true);
  });
});

describe('probeKernel', () => {
  it('on this host: pidfd, clone3 and CLONE_INTO_CGROUP all there', () => {
    const items = probeKernel('6.18.44-fc-v769');
    expect(items.map((i) => [i.name, i.status])).toEqual([
      ['version', 'ok'], ['pidfd', 'ok'], ['clone3', 'ok'], ['CLONE_INTO_CGROUP', 'ok'],
    ]);
    expect(items[0]?.facts).toEqual({ release: '6.18.44-fc-v769', version: '6.18.44' });
  });

  it('on 5.4: clone3 yes, CLONE_INTO_CGROUP no, with the fallback explained', () => {
    const items = probeKernel('5.4.0-150-generic');
    expect(items.find((i) => i.name === 'clone3')?.status).toBe('ok');
    expect(items.find((i) => i.name === 'CLONE_INTO_CGROUP')).toMatchObject({ status: 'warn', detail: expect.stringContaining('cgroup.procs') });
  });

  it('on 4.19: no pidfd', () => {
    expect(probeKernel('4.19.0-25-amd64').find((i) => i.name === 'pidfd')?.status).toBe('warn');
  });
});
