// The limits clients set by default (ctr: cpu shares 1024; podman, buildah: pids 2048) on a host whose
// cgroup v2 hierarchy lacks the controller: the container runs, with one warning per limit naming
// it; any other value is still refused (issue 16, item 8). Where the controller exists, nothing to show.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, runScript } from '../../helpers/bundle.js';
import { cgroup2Mount } from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const mount = cgroup2Mount();
const controllers = mount ? readFileSync(join(mount, 'cgroup.controllers'), 'utf8').split(/\s+/) : [];
const lacking = mount !== undefined && !controllers.includes('cpu') && !controllers.includes('pids');

describe.skipIf(skip !== undefined || !lacking)(`client defaults without the cpu and pids controllers${skip ? ` [skipped: ${skip}]` : !lacking ? ' [skipped: this host has the controllers]' : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  it('cpu shares 1024 and a pids limit of 2048 run, each with a warning', async () => {
    const r = await runScript('echo ran', { mutate: (s) => { s.linux!.resources = { cpu: { shares: 1024 }, pids: { limit: 2048 } }; } });
    expect(r.stdout).toBe('ran\n');
    expect(r.exitCode).toBe(0);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^tsrun: warning: linux\.resources\.cpu\.shares not applied: cpu shares 1024 is cgroup v1's default weight/),
      expect.stringMatching(/^tsrun: warning: linux\.resources\.pids\.limit not applied: a pids limit of 2048 is podman's and buildah's default/),
    ]);
  });

  it('other values are the user\'s limits: refused, naming the field', async () => {
    const shares = await runScript('echo ran', { mutate: (s) => { s.linux!.resources = { cpu: { shares: 512 } }; } });
    expect(shares.exitCode).toBe(125);
    expect(shares.stderr).toMatch(/linux\.resources\.cpu\.shares: needs the cgroup v2 "cpu" controller/);
    const pids = await runScript('echo ran', { mutate: (s) => { s.linux!.resources = { pids: { limit: 100 } }; } });
    expect(pids.exitCode).toBe(125);
    expect(pids.stderr).toMatch(/linux\.resources\.pids\.limit: needs the cgroup v2 "pids" controller/);
  });
});
