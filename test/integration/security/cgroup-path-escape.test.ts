// Class: cgroup file and directory names that climb out of the container's cgroup (runc
// GHSA-5g49-rx9x-qfc6: cgroups.OpenFile did not clean "../" in file names). A config's
// linux.resources.unified keys are file names in the container's cgroup and linux.cgroupsPath a
// directory under the hierarchy: with ".." in them a config could write another cgroup's files (move
// processes through cgroup.procs, lift another group's limits) or place the container anywhere.
// tsrun refuses keys with "/" and core files such as cgroup.procs, and "." or ".." components in
// cgroupsPath, before anything is made.
import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, runBundle } from '../../helpers/bundle.js';
import { cgroup2Mount } from '../../helpers/lifecycle.js';
import { hostileBundle } from './audit-support.js';

const skip = cannotRunContainers() ?? (cgroup2Mount() ? undefined : 'no cgroup v2 mount');

/**
 * Directories of the v2 hierarchy where an escape would make one: the top level, and anything named
 * like the test's target two levels deep (other containers come and go under tsrun/ meanwhile).
 */
function cgroupDirs(): string[] {
  const root = cgroup2Mount()!;
  const top = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  const below = top.flatMap((d) => readdirSync(`${root}/${d}`).filter((e) => e.startsWith('tsrun-sec-escape')).map((e) => `${d}/${e}`));
  return [...top, ...below].sort();
}

const CASES: [string, (s: Spec) => void, RegExp][] = [
  ['a unified key with ../', (s) => { s.linux!.resources = { unified: { '../../cgroup.procs': '1' } }; }, /linux\.resources\.unified\["\.\.\/\.\.\/cgroup\.procs"\]: must be a file name/],
  ['a unified key naming a core file', (s) => { s.linux!.resources = { unified: { 'cgroup.procs': '1' } }; }, /linux\.resources\.unified\["cgroup\.procs"\]: is a core cgroup file/],
  ['a unified key ".."', (s) => { s.linux!.resources = { unified: { '..': '1' } }; }, /linux\.resources\.unified\["\.\."\]: is not a cgroup v2 interface file name/],
  ['cgroupsPath /../../x', (s) => { s.linux!.cgroupsPath = '/../../tsrun-sec-escape'; }, /linux\.cgroupsPath: must not contain "\.\." components/],
  ['cgroupsPath a/../../../x', (s) => { s.linux!.cgroupsPath = 'a/../../../tsrun-sec-escape'; }, /linux\.cgroupsPath: must not contain "\.\." components/],
];

describe.skipIf(skip !== undefined)(`security: cgroup names that climb out${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  for (const [what, mutate, message] of CASES) {
    it(`${what}: refused before anything is made`, async () => {
      const before = cgroupDirs();
      const bundle = hostileBundle('echo ran', { mutate });
      const r = await runBundle(bundle);
      expect(r.stdout).toBe('');
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      // Nothing new: other containers' groups (and the shared tsrun/ parent) may go meanwhile.
      expect(cgroupDirs().filter((d) => !before.includes(d))).toEqual([]);
    });
  }
});
