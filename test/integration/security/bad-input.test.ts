// Issue 12, item 9: every bad input to `create` is a one-line error naming what is wrong, a non-zero
// exit, and nothing made — no state dir, no cgroup, no mount, no process. Before: a config nested
// 100,000 levels deep died in a RangeError stack trace after the clone (JSON.stringify of state.json),
// ids of 256–1024 characters failed on a raw ENAMETOOLONG, uid 4294967295 (-1 to setresuid: "leave
// unchanged") ran the container as root, and a config.json that is a FIFO hung tsrun forever.
// Each config here lies in a bundle of its own that points at the sample rootfs (never written to:
// nothing gets that far).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { SAMPLE_ROOTFS, cannotRunContainers, containerTestHooks, sampleSpec } from '../../helpers/bundle.js';
import { cgroup2Mount, cleanupLifecycle, defaultCgroupDir, makeRoot, rootEntries, tsrunToFiles, uniqueId } from '../../helpers/lifecycle.js';
import { lines } from './support.js';

const skip = cannotRunContainers();
const dirs: string[] = [];

/** A bundle dir holding only config.json (text as given), whose root.path is the sample rootfs. */
function bundleWithText(text: string | ((dir: string) => void)): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-bad-'));
  dirs.push(dir);
  if (typeof text === 'string') writeFileSync(join(dir, 'config.json'), text);
  else text(dir);
  return dir;
}

/** The sample's config, changed, pointed at the sample rootfs and made otherwise valid. */
function bundleWith(mutate: (spec: Spec) => void): string {
  const spec = sampleSpec();
  delete spec.linux!.resources;
  spec.root = { path: SAMPLE_ROOTFS };
  spec.process!.args = ['true'];
  mutate(spec);
  return bundleWithText(JSON.stringify(spec));
}

/** `tsrun create` of the bundle under a fresh --root: one line naming the problem, non-zero, nothing made. */
async function expectRefused(bundle: string, message: RegExp, id = uniqueId('bad')): Promise<void> {
  const root = makeRoot();
  const r = await tsrunToFiles(root, ['create', '--bundle', bundle, id], bundle, 15_000);
  expect(lines(r.stderr())).toEqual([expect.stringMatching(message)]);
  expect(r.stderr()).not.toMatch(/\n\s+at /);
  expect(r.exitCode).not.toBe(0);
  expect(rootEntries(root)).toEqual([]);
  if (cgroup2Mount() && /^[\w.+-]{1,200}$/.test(id)) expect(existsSync(defaultCgroupDir(id))).toBe(false);
}

const deep = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;

describe.skipIf(skip !== undefined)(`bad input to create: one line, non-zero, nothing made${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

  describe('the document', () => {
    it('a config nested 100,000 levels deep (in a field tsrun does not know)', async () => {
      const spec = JSON.stringify({ ...sampleSpec(), root: { path: SAMPLE_ROOTFS } });
      await expectRefused(bundleWithText(`${spec.slice(0, -1)},"vendor":${deep(100_000)}}`), /^tsrun: vendor: nested more than 64 levels deep \(the document is level 1\)$/);
    });

    it('a config nested 65 levels deep (the document is level 1)', async () => {
      const spec = JSON.stringify({ ...sampleSpec(), root: { path: SAMPLE_ROOTFS } });
      await expectRefused(bundleWithText(`${spec.slice(0, -1)},"vendor":${deep(64)}}`), /^tsrun: vendor: nested more than 64 levels deep/);
    });

    it('a config.json of 20 MiB', async () => {
      const spec = JSON.stringify({ ...sampleSpec(), root: { path: SAMPLE_ROOTFS } });
      await expectRefused(bundleWithText(`${spec.slice(0, -1)},"padding":"${'x'.repeat(20 * 1024 * 1024)}"}`), /^tsrun: .*config\.json: is 20\.0 MiB; a config may be at most 16 MiB$/);
    });

    it('a config.json that is a FIFO (reading it would wait forever)', async () => {
      const bundle = bundleWithText((dir) => execFileSync('mkfifo', [join(dir, 'config.json')]));
      await expectRefused(bundle, /^tsrun: .*config\.json: is a FIFO, not a regular file$/);
    });

    it('a config.json that is a link to /dev/zero (reading it would never end)', async () => {
      const bundle = bundleWithText((dir) => execFileSync('ln', ['-s', '/dev/zero', join(dir, 'config.json')]));
      await expectRefused(bundle, /^tsrun: .*config\.json: is a character device, not a regular file$/);
    });

    it.each([['[]', 'array'], ['null', 'null'], ['"config"', 'string'], ['7', 'number']])('JSON that is not an object: %s', async (text, kind) => {
      await expectRefused(bundleWithText(text), new RegExp(`^tsrun: config: must be an object, got ${kind}$`));
    });

    it('an empty config.json', async () => {
      await expectRefused(bundleWithText(''), /^tsrun: .*config\.json: invalid JSON at line 1, column 1: /);
    });
  });

  describe('container ids', () => {
    it.each([201, 256, 300, 1024, 5000])('an id of %i characters', async (n) => {
      await expectRefused(bundleWith(() => {}), /^tsrun: invalid container id "a{40}…" \(\d+ characters\): .*at most 200 characters/, 'a'.repeat(n));
    });

    it('an id of 200 characters is accepted (and gets as far as the missing program)', async () => {
      const id = `lc-${'b'.repeat(197)}`;
      const bundle = bundleWith((spec) => { spec.process!.args = ['/no/such/program']; });
      await expectRefused(bundle, /^tsrun: find "\/no\/such\/program" in the container .*process\.args/, id);
    });
  });

  describe('numbers out of range', () => {
    it.each<[string, (s: Spec) => void, RegExp]>([
      ['uid 4294967295 (-1: setresuid would leave the uid unchanged, root)', (s) => { s.process!.user.uid = 4294967295; }, /^tsrun: process\.user\.uid: must be between 0 and 4294967294, got 4294967295/],
      ['gid 4294967295', (s) => { s.process!.user.gid = 4294967295; }, /^tsrun: process\.user\.gid: must be between 0 and 4294967294/],
      ['an additional gid of 4294967295', (s) => { s.process!.user.additionalGids = [5, 4294967295]; }, /^tsrun: process\.user\.additionalGids\[1\]: must be between 0 and 4294967294/],
      ['umask 0o1777', (s) => { s.process!.user.umask = 0o1777; }, /^tsrun: process\.user\.umask: must be between 0 and 511/],
      ['an rlimit of 1e30', (s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 1e30, soft: 1024 }]; }, /^tsrun: process\.rlimits\[0\]\.hard: must be between 0 and 18446744073709551615/],
      ['a console of 70000 columns', (s) => { s.process!.consoleSize = { height: 24, width: 70000 }; }, /^tsrun: process\.consoleSize\.width: must be between 0 and 65535/],
      ['a device mode with file type bits', (s) => { s.linux!.devices = [{ type: 'c', path: '/dev/x', major: 1, minor: 3, fileMode: 0o140666 }]; }, /^tsrun: linux\.devices\[0\]\.fileMode: must be between 0 and 4095/],
      ['a device major beyond dev_t', (s) => { s.linux!.devices = [{ type: 'c', path: '/dev/x', major: 5000, minor: 3 }]; }, /^tsrun: linux\.devices\[0\]\.major: must be between 0 and 4095/],
      ['a uid mapping that wraps around', (s) => {
        s.linux!.namespaces!.push({ type: 'user' });
        s.linux!.uidMappings = [{ containerID: 0, hostID: 4294967000, size: 1000 }];
        s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
      }, /^tsrun: linux\.uidMappings\[0\]: hostID \+ size must be at most 4294967295/],
      ['a hook timeout beyond Node\'s timers (it would fire at once)', (s) => { s.hooks = { createRuntime: [{ path: '/bin/true', timeout: 3_000_000 }] }; }, /^tsrun: hooks\.createRuntime\[0\]\.timeout: must be between 1 and 2147483/],
      ['swappiness 200', (s) => { s.linux!.resources = { memory: { swappiness: 200 } }; }, /^tsrun: linux\.resources\.memory\.swappiness: must be between 0 and 100/],
    ])('%s', async (_what, mutate, message) => {
      await expectRefused(bundleWith(mutate), message);
    });
  });

  describe('strings and arrays', () => {
    it.each<[string, (s: Spec) => void, RegExp]>([
      ['a NUL byte in process.args', (s) => { s.process!.args = ['true', 'a\u0000b']; }, /^tsrun: process\.args\[1\]: must not contain a NUL character/],
      ['a NUL byte in a sysctl key', (s) => { s.linux!.sysctl = { 'net.ipv4.ip_forward\u0000x': '1' }; }, /^tsrun: linux\.sysctl\["net\.ipv4\.ip_forward\\u0000x"\]: must not contain a NUL character/],
      ['a mount destination of 5000 bytes', (s) => { s.mounts!.push({ destination: `/${'d/'.repeat(2500)}`, type: 'tmpfs', source: 'tmpfs' }); }, /^tsrun: mounts\[7\]\.destination: must be at most 4095 bytes \(PATH_MAX\)/],
      ['a path component of 256 bytes', (s) => { s.process!.cwd = `/${'c'.repeat(256)}`; }, /^tsrun: process\.cwd: has a component longer than 255 bytes \(NAME_MAX\)/],
      ['an env entry of 200 KiB', (s) => { s.process!.env = [`BIG=${'x'.repeat(200 * 1024)}`]; }, /^tsrun: process\.env\[0\]: is 204804 bytes; execve takes at most 131071/],
      ['1,000,000 env entries', (s) => { s.process!.env = Array.from({ length: 1_000_000 }, (_, i) => `V${i}=1`); }, /^tsrun: process\.env: .*execve/],
      ['100,000 mounts', (s) => { s.mounts = Array.from({ length: 100_000 }, (_, i) => ({ destination: `/m/${i}`, type: 'tmpfs', source: 'tmpfs' })); }, /^tsrun: mounts: has 100000 entries; at most 4096/],
      ['100,000 devices', (s) => { s.linux!.devices = Array.from({ length: 100_000 }, (_, i) => ({ type: 'p' as const, path: `/dev/p${i}` })); }, /^tsrun: linux\.devices: has 100000 entries; at most 4096/],
      ['341 uid mappings (the kernel takes 340)', (s) => {
        s.linux!.namespaces!.push({ type: 'user' });
        s.linux!.uidMappings = Array.from({ length: 341 }, (_, i) => ({ containerID: i, hostID: 100000 + i, size: 1 }));
        s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
      }, /^tsrun: linux\.uidMappings: has 341 entries; at most 340/],
    ])('%s', async (_what, mutate, message) => {
      await expectRefused(bundleWith(mutate), message);
    });
  });
});

