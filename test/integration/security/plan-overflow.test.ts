// Class: a length that overflows on the way from the runtime to the container's set-up code
// (CVE-2021-43784, runc GHSA-v95c-p5hm-xq8f: a 16-bit netlink attribute length in nsexec wrapped, and
// bytes of the config were read as other attributes). tsrun's plan carries each step's number of
// strings in 16 bits; argv and environment go into the checkExec and exec steps. With more than
// 65535 of them the count wrapped, and the shim read the rest of the strings as *further steps*:
// an image's Env (merged into process.env by `run --image`) could be crafted into steps of its own
// choosing, such as a dup2 of the set-up's rootfs fd onto the process's stdin (a host directory fd,
// the CVE-2024-21626 way out). tsrun now refuses such a config before anything is made, naming the
// field, and the encoder refuses any step whose counts do not fit.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, runBundle } from '../../helpers/bundle.js';
import { hostileBundle } from './audit-support.js';

const skip = cannotRunContainers();

const manyEnv = (n: number): string[] => Array.from({ length: n }, (_, i) => `E${i}=x`);

describe.skipIf(skip !== undefined)(`security: plan length overflow${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  it('process.env of 65,540 entries: refused before anything is made, naming the field (not read as further steps)', async () => {
    const bundle = hostileBundle('echo ran', { mutate: (s) => { s.process!.env = [...s.process!.env!, ...manyEnv(65_540)]; } });
    const r = await runBundle(bundle);
    expect(r.stdout).toBe('');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrun: .*process\.env: .*6553[45]/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('process.args of 70,000 entries: refused the same way, naming process.args', async () => {
    const bundle = hostileBundle('true', { mutate: (s) => { s.process!.args = ['true', ...Array.from({ length: 70_000 }, () => 'a')]; } });
    const r = await runBundle(bundle);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrun: .*process\.args: .*6553[45]/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a hook with 40,000 arguments and 40,000 environment entries (80,001 strings with its path): refused, naming the hook', async () => {
    const bundle = hostileBundle('true', {
      mutate: (s) => { s.hooks = { startContainer: [{ path: '/bin/true', args: Array.from({ length: 40_000 }, () => 'a'), env: manyEnv(40_000) }] }; },
    });
    const r = await runBundle(bundle);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrun: .*hooks\.startContainer\[0\]\.env: .*6553[45]/);
  });

  it('20,000 environment entries (within the limit) reach the process intact', async () => {
    const bundle = hostileBundle('env | grep -c "^E[0-9]*=x$"', { mutate: (s) => { s.process!.env = [...s.process!.env!, ...manyEnv(20_000)]; } });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('20000\n');
  });
});
