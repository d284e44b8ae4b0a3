// linux.namespaces type "time" and linux.timeOffsets (issue 19): the container's CLOCK_BOOTTIME (so
// /proc/uptime) and CLOCK_MONOTONIC run with the offsets; `tsrun exec` joins the same namespace; a
// user namespace beside it changes nothing; an offset the kernel refuses is a one-line error naming
// the step and the field, and leaves nothing behind.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, makeBundle, runBundle } from '../../helpers/bundle.js';
import { cleanupLifecycle, makeRoot, rootEntries, runDetachedIn, stateOf, tsrun, uniqueId } from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const YEAR = 365 * 86400;
const hostUptime = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

function withTime(spec: Spec, offsets: NonNullable<NonNullable<Spec['linux']>['timeOffsets']> = { monotonic: { secs: YEAR }, boottime: { secs: YEAR } }): void {
  spec.linux!.namespaces!.push({ type: 'time' });
  spec.linux!.timeOffsets = offsets;
}

function withUserNamespace(spec: Spec): void {
  spec.linux!.namespaces!.push({ type: 'user' });
  spec.linux!.uidMappings = spec.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
}

describe.skipIf(skip !== undefined)(`time namespace${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  for (const env of [{}, { TSRUN_NO_CLONE3: '1' }] as Record<string, string>[]) {
    it(`run: /proc/uptime inside is the host's plus the boottime offset${'TSRUN_NO_CLONE3' in env ? ' (placed through cgroup.procs)' : ''}`, async () => {
      const b = makeBundle({ mutate: (s) => { withTime(s); s.process!.args = ['cat', '/proc/uptime']; } });
      const before = hostUptime();
      const r = await runBundle(b, [], { env });
      const after = hostUptime();
      expect(r.exitCode, r.stderr).toBe(0);
      const inside = Number(r.stdout.split(' ')[0]);
      expect(inside).toBeGreaterThanOrEqual(before + YEAR - 1);
      expect(inside).toBeLessThanOrEqual(after + YEAR + 1);
    });
  }

  for (const userns of [false, true]) {
    it(`exec joins the container's time namespace${userns ? ' (with a user namespace)' : ''}`, async () => {
      const root = makeRoot();
      const id = uniqueId('time');
      const b = makeBundle({ mutate: (s) => { withTime(s); if (userns) withUserNamespace(s); s.process!.args = ['sleep', '100000']; } });
      const d = await runDetachedIn(root, b, id);
      expect(d.exitCode, d.stderr()).toBe(0);
      const { pid } = await stateOf(root, id);
      expect(readFileSync(`/proc/${pid}/timens_offsets`, 'utf8')).toMatch(/^monotonic +31536000 +0\nboottime +31536000 +0\n$/);
      const r = await tsrun(root, ['exec', id, 'cat', '/proc/uptime']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(Number(r.stdout.split(' ')[0]) - hostUptime()).toBeGreaterThan(YEAR - 2);
    });
  }

  it('an offset the kernel refuses (a clock below zero) is one line naming the step and linux.timeOffsets; nothing is left', async () => {
    const root = makeRoot();
    const b = makeBundle({ mutate: (s) => { withTime(s, { boottime: { secs: -100_000_000 } }); s.process!.args = ['true']; } });
    const r = await tsrun(root, ['run', '--bundle', b.dir, uniqueId('time')]);
    expect(r.exitCode).toBe(125);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^tsrun: write "boottime -100000000 0\\n" to \/proc\/self\/timens_offsets \(step \d+, linux\.timeOffsets\): ERANGE \(result too large\) from write$/),
    ]);
    expect(rootEntries(root)).toEqual([]);
  });
});
