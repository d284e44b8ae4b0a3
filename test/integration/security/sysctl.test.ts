// Issue 12, item 6: sysctls (and the uts names) into the caller's namespaces. A net.* sysctl is
// written to the network namespace the container is in; if the config joins the caller's own by path
// (`/proc/self/ns/net`, `/proc/1/ns/net` from the host), that is the host's. The same holds for the IPC
// sysctls and the IPC namespace, and for hostname/domainname (and kernel.domainname) and the uts
// namespace. All are refused before anything is created, as runc does for net and IPC: a namespace
// joined by path counts as the caller's when its device and inode are those of /proc/self/ns/<type>.
// The tests never touch the host: tsrun runs inside throwaway network, IPC and uts namespaces
// (`unshare --net --ipc --uts`, held by a sleep) which are "the caller's" here, so the old code
// wrote only into them — and the assertions read the values there.
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Namespace, NamespaceType, Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks } from '../../helpers/bundle.js';
import { cgroup2Mount, cleanupLifecycle, defaultCgroupDir, makeRoot, rootEntries, scriptBundle, uniqueId } from '../../helpers/lifecycle.js';
import { holdNamespaces, killHolders, lines, runIn, tsrunIn } from './support.js';

const skip = cannotRunContainers();

const CALLER_NS = ['-n', '-i', '-u'];
/** Throwaway network, IPC and uts namespaces that play the caller's. */
const callerNamespaces = (): Promise<number> => holdNamespaces(['--net', '--ipc', '--uts'], 'hostname tsrun-caller-ns');

/** The config's namespaces with `type` replaced by `entry` (or dropped when entry is undefined). */
function withNamespace(spec: Spec, type: NamespaceType, entry: Namespace | undefined): void {
  const others = spec.linux!.namespaces!.filter((n) => n.type !== type);
  spec.linux!.namespaces = entry ? [...others, entry] : others;
}

async function readIn(pid: number, path: string): Promise<string> {
  const r = await runIn(pid, CALLER_NS, ['cat', path]);
  if (r.exitCode !== 0) throw new Error(`cat ${path} in the namespaces of ${pid}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Runs the bundle with tsrun in the caller namespaces of `ns`; asserts the refusal and that nothing was made. */
async function expectRefused(ns: number, bundle: ReturnType<typeof scriptBundle>, message: RegExp): Promise<void> {
  const root = makeRoot();
  const id = uniqueId('sysctl');
  const r = await tsrunIn(ns, CALLER_NS, root, ['run', '--bundle', bundle.dir, id], bundle.dir);
  expect(lines(r.stderr)).toEqual([expect.stringMatching(message)]);
  expect(r.exitCode).not.toBe(0);
  expect(rootEntries(root)).toEqual([]);
  if (cgroup2Mount()) expect(existsSync(defaultCgroupDir(id))).toBe(false);
}

describe.skipIf(skip !== undefined)(`sysctls and uts names never reach the caller's namespaces${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);
  afterEach(killHolders);

  it.each([
    ['/proc/self/ns/net'],
    ['/proc/<caller>/ns/net'],
  ])('net.* with the caller\'s network namespace joined by path (%s) is refused; the caller\'s value stays', async (path) => {
    const ns = await callerNamespaces();
    const before = await readIn(ns, '/proc/sys/net/ipv4/ip_default_ttl');
    const bundle = scriptBundle('true', (spec) => {
      withNamespace(spec, 'network', { type: 'network', path: path.replace('<caller>', String(ns)) });
      spec.linux!.sysctl = { 'net.ipv4.ip_default_ttl': before === '99' ? '98' : '99' };
    });
    await expectRefused(ns, bundle, /^tsrun: linux\.sysctl\["net\.ipv4\.ip_default_ttl"\]: .*the caller's network namespace/);
    expect(await readIn(ns, '/proc/sys/net/ipv4/ip_default_ttl')).toBe(before);
  });

  it('net.* without a network namespace is refused', async () => {
    const ns = await callerNamespaces();
    const bundle = scriptBundle('true', (spec) => {
      withNamespace(spec, 'network', undefined);
      spec.linux!.sysctl = { 'net/ipv4/ip_default_ttl': '99' };
    });
    await expectRefused(ns, bundle, /^tsrun: linux\.sysctl\["net\/ipv4\/ip_default_ttl"\]: .*network namespace/);
    expect(await readIn(ns, '/proc/sys/net/ipv4/ip_default_ttl')).toBe('64');
  });

  it('an IPC sysctl with the caller\'s IPC namespace joined by path is refused; the caller\'s value stays', async () => {
    const ns = await callerNamespaces();
    const before = await readIn(ns, '/proc/sys/kernel/msgmax');
    const bundle = scriptBundle('true', (spec) => {
      withNamespace(spec, 'ipc', { type: 'ipc', path: `/proc/${ns}/ns/ipc` });
      spec.linux!.sysctl = { 'kernel.msgmax': String(Number(before) + 1) };
    });
    await expectRefused(ns, bundle, /^tsrun: linux\.sysctl\["kernel\.msgmax"\]: .*the caller's ipc namespace/);
    expect(await readIn(ns, '/proc/sys/kernel/msgmax')).toBe(before);
  });

  it('hostname with the caller\'s uts namespace joined by path is refused; the caller keeps its name', async () => {
    const ns = await callerNamespaces();
    const bundle = scriptBundle('true', (spec) => {
      withNamespace(spec, 'uts', { type: 'uts', path: '/proc/self/ns/uts' });
      spec.hostname = 'renamed-by-a-container';
    });
    await expectRefused(ns, bundle, /^tsrun: hostname: .*the caller's uts namespace/);
    expect(await readIn(ns, '/proc/sys/kernel/hostname')).toBe('tsrun-caller-ns');
  });

  it('kernel.domainname with the caller\'s uts namespace joined by path is refused', async () => {
    const ns = await callerNamespaces();
    const before = await readIn(ns, '/proc/sys/kernel/domainname');
    const bundle = scriptBundle('true', (spec) => {
      withNamespace(spec, 'uts', { type: 'uts', path: `/proc/${ns}/ns/uts` });
      delete spec.hostname;
      spec.linux!.sysctl = { 'kernel.domainname': 'renamed.example' };
    });
    await expectRefused(ns, bundle, /^tsrun: linux\.sysctl\["kernel\.domainname"\]: .*the caller's uts namespace/);
    expect(await readIn(ns, '/proc/sys/kernel/domainname')).toBe(before);
  });

  it('a namespace path that does not exist, or is not a namespace, is refused before anything is made', async () => {
    const ns = await callerNamespaces();
    const missing = scriptBundle('true', (spec) => withNamespace(spec, 'network', { type: 'network', path: '/proc/self/ns/no-such-namespace' }));
    await expectRefused(ns, missing, /^tsrun: linux\.namespaces\[\d+\]\.path: \/proc\/self\/ns\/no-such-namespace does not exist/);
    const notNs = scriptBundle('true', (spec) => withNamespace(spec, 'ipc', { type: 'ipc', path: '/etc/hostname' }));
    await expectRefused(ns, notNs, /^tsrun: linux\.namespaces\[\d+\]\.path: \/etc\/hostname is not a namespace/);
  });

  it('the same sysctls still work in a namespace of the container\'s own, new or joined (so the refusals can be told apart)', async () => {
    const ns = await callerNamespaces();
    const other = await holdNamespaces(['--net', '--ipc']);
    const script = 'cat /proc/sys/net/ipv4/ip_default_ttl /proc/sys/kernel/msgmax';
    const sysctl = { 'net.ipv4.ip_default_ttl': '77', 'kernel.msgmax': '12345' };
    const fresh = scriptBundle(script, (spec) => { spec.linux!.sysctl = sysctl; });
    const joined = scriptBundle(script, (spec) => {
      withNamespace(spec, 'network', { type: 'network', path: `/proc/${other}/ns/net` });
      withNamespace(spec, 'ipc', { type: 'ipc', path: `/proc/${other}/ns/ipc` });
      spec.linux!.sysctl = sysctl;
    });
    for (const bundle of [fresh, joined]) {
      const r = await tsrunIn(ns, CALLER_NS, makeRoot(), ['run', '--bundle', bundle.dir, uniqueId('sysctlok')], bundle.dir);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('77\n12345\n');
      expect(r.exitCode).toBe(0);
    }
    expect(await readIn(ns, '/proc/sys/net/ipv4/ip_default_ttl')).toBe('64');
    expect(await readIn(other, '/proc/sys/net/ipv4/ip_default_ttl')).toBe('77');
  });
});
