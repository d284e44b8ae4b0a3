// The container's cgroup through the lifecycle: a created container's init is already in its v2
// cgroup before `start` (default /tsrun/<id>, or an absolute linux.cgroupsPath); device rules on top
// of the runc-spec default deny-all; and a limit this hybrid host cannot apply (memory, held by v1)
// refused at create with nothing left behind.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, processesMatching, type TestBundle } from '../../helpers/bundle.js';
import {
  cgroup2Controllers, cgroup2Mount, cleanupLifecycle, createIn, defaultCgroupDir, makeRoot, mustCreate, parseJsonLines,
  rootEntries, scriptBundle, stateOf, trackCgroup, tsrun, tsrunJson, uniqueId, v2CgroupOf, waitForDeath, waitForFile,
} from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const mount = cgroup2Mount();
const why = skip ?? (mount === undefined ? 'no cgroup v2 mounted' : undefined);
const hasLoopControl = existsSync('/dev/loop-control');

describe.skipIf(why !== undefined)(`lifecycle: cgroup${why ? ` [skipped: ${why}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle); // registered last, so it runs first

  it('a created container\'s init is in /tsrun/<id> before start, and the cgroup is removed by delete', async () => {
    const root = makeRoot();
    const id = uniqueId('cgdefault');
    const bundle = scriptBundle('echo "started $0"; sleep 1000');
    const c = await mustCreate(root, bundle, id);
    const { pid, status } = await stateOf(root, id);
    expect(status).toBe('created');
    expect(c.stdout()).toBe('');
    expect(v2CgroupOf(pid)).toBe(`/tsrun/${id}`);
    const dir = join(mount!, 'tsrun', id);
    expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8')).toBe(`${pid}\n`);
    expect((await tsrun(root, ['start', id])).exitCode).toBe(0);
    await waitForFile(c.stdoutFile, `started ${bundle.marker}\n`);
    expect(v2CgroupOf(pid)).toBe(`/tsrun/${id}`);
    expect((await tsrun(root, ['delete', '--force', id])).exitCode).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });

  it('an absolute linux.cgroupsPath: the created init is in exactly that cgroup; delete removes it', async () => {
    const root = makeRoot();
    const id = uniqueId('cgabs');
    const path = `/${uniqueId('abs')}`;
    const dir = join(mount!, path);
    trackCgroup(dir);
    const bundle = scriptBundle('sleep 1000', (spec) => { spec.linux!.cgroupsPath = path; });
    await mustCreate(root, bundle, id);
    const { pid } = await stateOf(root, id);
    expect(v2CgroupOf(pid)).toBe(path);
    expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8')).toBe(`${pid}\n`);
    expect(existsSync(defaultCgroupDir(id))).toBe(false);
    const r = await tsrun(root, ['delete', '--force', id]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(await waitForDeath(pid)).toMatch(/^(absent|zombie)$/);
    expect(existsSync(dir)).toBe(false);
  });

  describe.skipIf(!hasLoopControl)(`device rules (runc spec default: deny all)${hasLoopControl ? '' : ' [skipped: no /dev/loop-control on the host]'}`, () => {
    const probe = [
      '[ -c /dev/loop-control ] && echo "node present"',
      // In a subshell: a failed redirection of the special builtin `:` would end the shell itself.
      'if (: </dev/loop-control); then echo "loop-control opened"; else echo "loop-control denied"; fi',
      'if (: </dev/null); then echo "null opened"; else echo "null denied"; fi',
    ].join('; ');
    const loopNode = { path: '/dev/loop-control', type: 'c', major: 10, minor: 237, fileMode: 0o600, uid: 0, gid: 0 };

    /** A bundle with the sample's resources kept: its only device rule is runc spec's deny-all. */
    function deviceBundle(extraRules: object[]): TestBundle {
      return scriptBundle(probe, (spec) => {
        expect(spec.linux!.resources!.devices).toEqual([{ allow: false, access: 'rwm' }]);
        spec.linux!.devices = [loopNode as never];
        spec.linux!.resources!.devices!.push(...(extraRules as never[]));
      }, false);
    }

    it('a device bind-mounted from the host (not in linux.devices), no allow rule: EPERM; /dev/null opens', async () => {
      const root = makeRoot();
      const bundle = scriptBundle(probe, (spec) => {
        expect(spec.linux!.resources!.devices).toEqual([{ allow: false, access: 'rwm' }]);
        spec.mounts!.push({ destination: '/dev/loop-control', type: 'bind', source: '/dev/loop-control', options: ['bind'] });
      }, false);
      const r = await tsrun(root, ['run', '--bundle', bundle.dir, uniqueId('devbind')]);
      expect(r.stdout).toBe('node present\nloop-control denied\nnull opened\n');
      expect(r.stderr).toMatch(/\/dev\/loop-control: Operation not permitted/);
      expect(r.exitCode).toBe(0);
    });

    // runc (libcontainer/specconv createDevices) only creates the nodes of linux.devices; the device
    // cgroup allows nothing but its default list and linux.resources.devices.
    it('a device listed in linux.devices but not allowed by a rule cannot be opened (EPERM, as runc); /dev/null can', async () => {
      const root = makeRoot();
      const bundle = deviceBundle([]);
      const r = await tsrun(root, ['run', '--bundle', bundle.dir, uniqueId('devdeny')]);
      expect(r.stdout).toBe('node present\nloop-control denied\nnull opened\n');
      expect(r.stderr).toMatch(/\/dev\/loop-control: Operation not permitted/);
      expect(r.exitCode).toBe(0);
    });

    it('with an allow rule {allow, c, 10:237, rwm} the device opens', async () => {
      const root = makeRoot();
      const bundle = deviceBundle([{ allow: true, type: 'c', major: 10, minor: 237, access: 'rwm' }]);
      const r = await tsrun(root, ['run', '--bundle', bundle.dir, uniqueId('devallow')]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('node present\nloop-control opened\nnull opened\n');
      expect(r.exitCode).toBe(0);
    });
  });

  const hasV2Memory = cgroup2Controllers().includes('memory');
  describe.skipIf(hasV2Memory)(`a memory limit on a host whose v2 hierarchy lacks the memory controller${hasV2Memory ? ' [skipped: v2 has memory here]' : ''}`, () => {
    function memoryBundle(): TestBundle {
      return scriptBundle('echo "started $0"; sleep 1000', (spec) => {
        spec.linux!.resources = { memory: { limit: 64 * 1024 * 1024 } };
      });
    }

    async function expectNothingLeft(root: string, id: string, bundle: TestBundle): Promise<void> {
      expect(rootEntries(root)).toEqual([]);
      expect(existsSync(defaultCgroupDir(id))).toBe(false);
      expect(processesMatching(bundle.marker)).toEqual([]);
      const st = await tsrun(root, ['state', id]);
      expect(st.stderr).toMatch(/does not exist/);
    }

    it('create is refused with a message naming linux.resources.memory.limit and the memory controller; nothing is left', async () => {
      const root = makeRoot();
      const id = uniqueId('mem');
      const bundle = memoryBundle();
      const r = await createIn(root, bundle, id);
      expect(r.stdout()).toBe('');
      expect(r.stderr()).toMatch(/^tsrun: .*linux\.resources\.memory\.limit/);
      expect(r.stderr()).toMatch(/"memory" controller/);
      expect(r.exitCode).not.toBe(0);
      await expectNothingLeft(root, id, bundle);

      const j = await tsrunJson(root, ['create', '--bundle', bundle.dir, id]);
      const lines = parseJsonLines(j.stderr) as { level: string; msg: string; field?: string }[];
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 'error', field: 'linux.resources.memory.limit' });
      expect(lines[0]!.msg).toMatch(/"memory" controller/);
      expect(j.exitCode).not.toBe(0);
      await expectNothingLeft(root, id, bundle);
    });

    it('run and run -d are refused the same way; nothing is left', async () => {
      const root = makeRoot();
      const id = uniqueId('memrun');
      const bundle = memoryBundle();
      for (const extra of [[], ['-d']]) {
        const r = await tsrun(root, ['run', ...extra, '--bundle', bundle.dir, id]);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/linux\.resources\.memory\.limit.*"memory" controller/);
        expect(r.exitCode).not.toBe(0);
        await expectNothingLeft(root, id, bundle);
      }
    });
  });
});
