// tsrun update: how a change merges into a container's linux.resources (as runc's update), and
// runc's update flags turned into resources.
import { describe, expect, it } from 'vitest';
import { mergeResources } from '../../../src/cgroups/update.js';
import { parseByteSize, resourcesFromFlags } from '../../../src/cli/commands/update.js';

describe('mergeResources', () => {
  const current = { memory: { limit: 100, swap: 200 }, cpu: { shares: 512, cpus: '0-1' }, pids: { limit: 50 }, hugepageLimits: [{ pageSize: '2MB', limit: 1 }], unified: { 'memory.high': '90' } };

  it('keeps what the change leaves out, takes what it gives', () => {
    expect(mergeResources(current, { memory: { limit: 300 }, cpu: { quota: 5000, period: 10000 } }).resources).toEqual({
      ...current, memory: { limit: 300, swap: 200 }, cpu: { shares: 512, cpus: '0-1', quota: 5000, period: 10000 },
    });
  });

  it('zeros of "unset" limits and empty cpusets mean unchanged (whole structures from containerd and docker)', () => {
    const r = mergeResources(current, { memory: { limit: 0, reservation: 0, swap: 0 }, cpu: { shares: 0, cpus: '', mems: '', quota: 0 }, pids: { limit: 0 }, blockIO: { weight: 0 } }).resources;
    expect(r.memory).toEqual({ limit: 100, swap: 200 });
    expect(r.cpu).toEqual({ shares: 512, cpus: '0-1', quota: 0 });
    expect(r.pids).toEqual({ limit: 50 });
  });

  it('memory limit -1 without a swap value makes swap unlimited too (runc)', () => {
    expect(mergeResources(current, { memory: { limit: -1 } }).resources.memory).toEqual({ limit: -1, swap: -1 });
    expect(mergeResources(current, { memory: { limit: -1, swap: 400 } }).resources.memory).toEqual({ limit: -1, swap: 400 });
  });

  it('hugepage limits per page size, unified per key; device rules are not changed (a note says so)', () => {
    const m = mergeResources(current, { hugepageLimits: [{ pageSize: '1GB', limit: 2 }, { pageSize: '2MB', limit: 3 }], unified: { 'memory.max': '5' }, devices: [{ allow: true, access: 'rwm' }] });
    expect(m.resources.hugepageLimits).toEqual([{ pageSize: '2MB', limit: 3 }, { pageSize: '1GB', limit: 2 }]);
    expect(m.resources.unified).toEqual({ 'memory.high': '90', 'memory.max': '5' });
    expect(m.resources.devices).toBeUndefined();
    expect(m.notes).toEqual([expect.stringMatching(/^linux\.resources\.devices: device rules are not changed by update/)]);
  });
});

describe('runc update flags', () => {
  it('sizes as runc takes them: bytes, binary units, -1', () => {
    expect(parseByteSize('1024', 'memory')).toBe(1024);
    expect(parseByteSize('512m', 'memory')).toBe(512 * 2 ** 20);
    expect(parseByteSize('1.5G', 'memory')).toBe(1.5 * 2 ** 30);
    expect(parseByteSize('2kb', 'memory')).toBe(2048);
    expect(parseByteSize('-1', 'memory-swap')).toBe(-1);
    expect(() => parseByteSize('-2', 'memory')).toThrow(/invalid value for --memory: "-2"/);
    expect(() => parseByteSize('1x', 'memory')).toThrow(/invalid value for --memory/);
  });

  it('only the flags given become resources', () => {
    const warnings: string[] = [];
    expect(resourcesFromFlags({ memory: '1g', memorySwap: '-1', cpuShare: '512', cpuQuota: '-1', cpusetCpus: '0', pidsLimit: '-1', kernelMemory: '1m' }, (m) => warnings.push(m))).toEqual({
      memory: { limit: 2 ** 30, swap: -1 }, cpu: { shares: 512, quota: -1, cpus: '0' }, pids: { limit: -1 },
    });
    expect(warnings).toEqual(['setting --kernel-memory is ignored (obsolete, as in runc)']);
    expect(resourcesFromFlags({ cpuShares: '1024' }, () => {})).toEqual({ cpu: { shares: 1024 } });
    expect(resourcesFromFlags({}, () => {})).toEqual({});
    expect(() => resourcesFromFlags({ cpuPeriod: '-5' }, () => {})).toThrow(/invalid value for --cpu-period/);
    expect(() => resourcesFromFlags({ memBwSchema: 'MB:0=50' }, () => {})).toThrow(/--mem-bw-schema: tsrun has no Intel RDT/);
  });
});
