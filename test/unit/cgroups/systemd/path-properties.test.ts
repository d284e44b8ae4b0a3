// linux.cgroupsPath under --systemd-cgroup (runc's rules) and the scope's properties (runc's v2 set),
// derived from the planned cgroupfs writes.
import { describe, expect, it } from 'vitest';
import { expandSlice, resolveSystemdPath } from '../../../../src/cgroups/systemd/path.js';
import { cpuMask, scopeProperties, withPid } from '../../../../src/cgroups/systemd/properties.js';
import type { FileWrite } from '../../../../src/cgroups/types.js';
import { ConfigError } from '../../../../src/errors.js';

describe('systemd cgroupsPath', () => {
  it('"slice:prefix:name" is <prefix>-<name>.scope in the slice; the default is tsrun-<id>.scope in system.slice', () => {
    expect(resolveSystemdPath('system.slice:tsrun:web', 'x')).toEqual({ slice: 'system.slice', unit: 'tsrun-web.scope', cgroup: '/system.slice/tsrun-web.scope' });
    expect(resolveSystemdPath('machine.slice:libpod:abc', 'x')).toEqual({ slice: 'machine.slice', unit: 'libpod-abc.scope', cgroup: '/machine.slice/libpod-abc.scope' });
    expect(resolveSystemdPath(undefined, 'c1')).toEqual({ slice: 'system.slice', unit: 'tsrun-c1.scope', cgroup: '/system.slice/tsrun-c1.scope' });
    expect(resolveSystemdPath('', 'c1').unit).toBe('tsrun-c1.scope');
    expect(resolveSystemdPath(':cri-containerd:abc', 'x').cgroup).toBe('/system.slice/cri-containerd-abc.scope');
  });

  it('nested slice names expand with their dashes; -.slice is the root', () => {
    expect(resolveSystemdPath('kubepods-besteffort-pod12.slice:cri-containerd:abc', 'x').cgroup)
      .toBe('/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/cri-containerd-abc.scope');
    expect(resolveSystemdPath('-.slice:p:n', 'x').cgroup).toBe('/p-n.scope');
    expect(expandSlice('f', 'a-b.slice')).toBe('/a.slice/a-b.slice');
  });

  it('refuses other shapes, bad slices, a slice as the name and unit names systemd would refuse', () => {
    for (const bad of ['/a/b', 'a:b', 'a:b:c:d', 'system.slice:p:', 'a--b.slice:p:n', '-a.slice:p:n', 'a/b.slice:p:n', 'notaslice:p:n', 'system.slice:p:x.slice', 'system.slice:p:a+b', `system.slice:p:${'x'.repeat(260)}`]) {
      expect(() => resolveSystemdPath(bad, 'id'), bad).toThrow(ConfigError);
    }
    expect(() => resolveSystemdPath('a:b', 'id')).toThrow(/with --systemd-cgroup it must be "slice:prefix:name"/);
    expect(() => resolveSystemdPath(undefined, 'a+b')).toThrow(/linux.cgroupsPath \(absent.*not a valid systemd unit name/);
  });
});

const w = (file: string, value: string, field = `f.${file}`): FileWrite => ({ controller: file.split('.')[0]!, file, value, field });
const props = (writes: FileWrite[], systemdVersion = 252) => scopeProperties({ id: 'c', unit: 'tsrun-c.scope', slice: 'system.slice', writes, systemdVersion });
const plain = (p: ReturnType<typeof props>): [string, string, unknown][] => p.properties.map(([n, v]) => [n, v.signature, v.value]);

describe('scope properties', () => {
  it('always: Description, Slice, Delegate, accounting, DefaultDependencies=no; PIDs right after Delegate', () => {
    const p = props([]);
    expect(plain(p)).toEqual([
      ['Description', 's', 'tsrun container c'], ['Slice', 's', 'system.slice'], ['Delegate', 'b', true],
      ['MemoryAccounting', 'b', true], ['CPUAccounting', 'b', true], ['IOAccounting', 'b', true], ['TasksAccounting', 'b', true],
      ['DefaultDependencies', 'b', false],
    ]);
    expect(withPid(p.properties, 42).map(([n]) => n).slice(2, 4)).toEqual(['Delegate', 'PIDs']);
    expect(withPid(p.properties, 42)[3]![1].value).toEqual([42]);
  });

  it('limits as runc sets them: MemoryMax, MemorySwapMax, TasksMax, CPUWeight, AllowedCPUs; "max" is infinity', () => {
    const p = props([w('memory.max', '33554432'), w('memory.swap.max', 'max'), w('pids.max', '7'), w('cpu.weight', '39'), w('cpuset.cpus', '0-1,3'), w('io.max', '8:0 rbps=1')]);
    expect(plain(p).slice(8)).toEqual([
      ['MemoryMax', 't', 33554432n], ['MemorySwapMax', 't', 0xffff_ffff_ffff_ffffn], ['TasksMax', 't', 7n], ['CPUWeight', 't', 39n], ['AllowedCPUs', 'ay', new Uint8Array([0b1011])],
    ]);
    expect(p.writes).toHaveLength(6); // io.max too: it has no property, and every write goes to the files as well
  });

  it('cpu.max: per-second quota rounded up to whole percents, the write matched to it; the period from systemd 242', () => {
    const p = props([w('cpu.max', '15001 100000')]);
    expect(plain(p).slice(8)).toEqual([['CPUQuotaPeriodUSec', 't', 100000n], ['CPUQuotaPerSecUSec', 't', 160000n]]);
    expect(p.writes[0]!.value).toBe('16000 100000');
    expect(plain(props([w('cpu.max', '15000 100000')])).slice(9)).toEqual([['CPUQuotaPerSecUSec', 't', 150000n]]);
    expect(plain(props([w('cpu.max', 'max 50000')])).slice(8)).toEqual([['CPUQuotaPeriodUSec', 't', 50000n], ['CPUQuotaPerSecUSec', 't', 0xffff_ffff_ffff_ffffn]]);
    expect(plain(props([w('cpu.max', '20000')])).slice(8)).toEqual([['CPUQuotaPerSecUSec', 't', 200000n]]);
    const old = props([w('cpu.max', '15000 100000'), w('cpuset.mems', '0')], 241);
    expect(plain(old).map(([n]) => n)).not.toContain('CPUQuotaPeriodUSec');
    expect(plain(old).map(([n]) => n)).not.toContain('AllowedMemoryNodes');
    expect(old.notes.join('\n')).toMatch(/CPUQuotaPeriodUSec is not given to systemd 241 \(it needs 242\)/);
  });

  it('cpu.idle 1 is CPUWeight=0 from systemd 252 (then cpu.weight is not sent); memory.oom.group is OOMPolicy from 253', () => {
    expect(plain(props([w('cpu.weight', '50'), w('cpu.idle', '1')])).slice(8)).toEqual([['CPUWeight', 't', 0n]]);
    expect(plain(props([w('memory.oom.group', '1')], 253)).slice(8)).toEqual([['OOMPolicy', 's', 'kill']]);
    expect(plain(props([w('memory.oom.group', '1')], 252)).slice(8)).toEqual([]);
  });

  it('refuses what systemd cannot take, naming the field', () => {
    expect(() => props([w('memory.max', '1G', 'linux.resources.unified["memory.max"]')])).toThrow(/linux.resources.unified\["memory.max"\]: with --systemd-cgroup, memory.max must be "max" or a number/);
    expect(() => props([w('cpu.max', 'lots')])).toThrow(ConfigError);
    expect(() => cpuMask(w('cpuset.cpus', ''), '0-100000')).toThrow(/below 65536/);
  });

  it('CPU masks put CPU n at bit n % 8 of byte n / 8', () => {
    expect(cpuMask(w('cpuset.cpus', ''), '0')).toEqual(new Uint8Array([1]));
    expect(cpuMask(w('cpuset.cpus', ''), '9,0-1')).toEqual(new Uint8Array([3, 2]));
  });
});
