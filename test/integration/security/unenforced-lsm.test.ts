// Class: confinement the config asks for and tsrun cannot give (runc refuses an SELinux label, and
// fails to apply an AppArmor profile, on a host without that LSM; crun skips them silently). tsrun
// applies no AppArmor profile and no SELinux label, on any host: a config that names one was
// accepted and the container ran without it, less confined than its author asked — on a host where
// that LSM is enabled, a quiet way around it. tsrun now refuses such a config before anything is
// made, naming the field; "unconfined" asks for nothing and is accepted.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, runBundle } from '../../helpers/bundle.js';
import { cleanupLifecycle, makeRoot, mustCreateAndStart, rootEntries, tsrun, uniqueId } from '../../helpers/lifecycle.js';
import { hostileBundle } from './audit-support.js';

const skip = cannotRunContainers();

const CASES: [string, (s: Spec) => void][] = [
  ['process.apparmorProfile', (s) => { s.process!.apparmorProfile = 'tsrun-audit-profile'; }],
  ['process.selinuxLabel', (s) => { s.process!.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2'; }],
  ['linux.mountLabel', (s) => { s.linux!.mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2'; }],
];

describe.skipIf(skip !== undefined)(`security: AppArmor and SELinux fields tsrun cannot enforce${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  for (const [field, set] of CASES) {
    it(`${field}: refused before anything is made, naming the field`, async () => {
      const bundle = hostileBundle('echo ran-unconfined', { mutate: set });
      const r = await runBundle(bundle);
      expect(r.stdout).toBe('');
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`^tsrun: .*${field.replace('.', '\\.')}: .*(AppArmor|SELinux)`));
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('process.apparmorProfile "unconfined" (nothing to apply) runs, as do empty strings', async () => {
    const bundle = hostileBundle('echo ran', {
      mutate: (s) => { s.process!.apparmorProfile = 'unconfined'; s.process!.selinuxLabel = ''; s.linux!.mountLabel = ''; },
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ran\n');
  });

  it('exec --process with an apparmorProfile is refused the same way, and no process is started', async () => {
    const root = makeRoot();
    const id = uniqueId('lsm-exec');
    const bundle = hostileBundle('sleep 100000');
    await mustCreateAndStart(root, bundle, id);
    const processFile = join(bundle.dir, 'process.json');
    writeFileSync(processFile, JSON.stringify({ ...bundle.spec.process, args: ['sh', '-c', `echo ${bundle.marker}-exec`], apparmorProfile: 'tsrun-audit-profile' }));
    const r = await tsrun(root, ['exec', '--process', processFile, id]);
    expect(r.stdout).toBe('');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/process\.apparmorProfile: .*AppArmor/);
    expect(rootEntries(root)).toEqual([id]);
  });
});
