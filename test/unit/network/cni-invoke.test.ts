// The CNI runtime against fake plugins (shell scripts that log what they were given): the order of a
// list's plugins per command, prevResult, runtimeConfig by capability, the CNI_* variables, and
// failures that name the plugin.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addNetworkList, checkNetworkList, CniPluginError, currentShape, delNetworkList, pluginStdin } from '../../../src/network/cni/invoke.js';
import { findPlugin } from '../../../src/network/cni/exec.js';
import type { NetConfList, PluginCall, RuntimeConf } from '../../../src/network/cni/types.js';

let dir: string;
let log: string;

/** A plugin that logs `<n> <command> <stdin>` and its CNI_* env, and answers ADD with `result`. */
function fakePlugin(name: string, result: object | undefined, opts: { fail?: string; sleep?: number } = {}): void {
  const script = [
    '#!/bin/sh',
    `stdin=$(cat)`,
    `printf '%s\\n' "${name} $CNI_COMMAND $stdin" >> ${log}`,
    `env | grep '^CNI_' | sort > ${dir}/env-${name}-$CNI_COMMAND`,
    ...(opts.sleep ? [`sleep ${opts.sleep}`] : []),
    ...(opts.fail ? [`echo '${opts.fail}'`, 'exit 1'] : []),
    `[ "$CNI_COMMAND" = ADD ] && echo '${JSON.stringify(result ?? {})}'`,
    'exit 0',
  ].join('\n');
  writeFileSync(join(dir, name), script);
  chmodSync(join(dir, name), 0o755);
}

const calls = (): { plugin: string; command: string; stdin: Record<string, unknown> }[] =>
  readFileSync(log, 'utf8').trim().split('\n').map((l) => {
    const [plugin, command, ...rest] = l.split(' ');
    return { plugin: plugin!, command: command!, stdin: JSON.parse(rest.join(' ')) as Record<string, unknown> };
  });

const rt: RuntimeConf = { containerId: 'c1', netns: '/run/x/netns', ifname: 'eth0', capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] } };
const list = (plugins: NetConfList['plugins'], version = '1.0.0'): NetConfList => ({ cniVersion: version, name: 'net1', plugins });
const R1 = { cniVersion: '1.0.0', interfaces: [{ name: 'br0' }, { name: 'eth0', sandbox: '/run/x/netns' }], ips: [{ address: '10.1.0.2/24', gateway: '10.1.0.1', interface: 1 }] };
const R2 = { ...R1, dns: { nameservers: ['10.1.0.1'] } };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cni-fake-'));
  log = join(dir, 'log');
  writeFileSync(log, '');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ADD', () => {
  it('runs the plugins in order, each with the previous result, and returns the last', async () => {
    fakePlugin('a', R1);
    fakePlugin('b', R2);
    const seen: PluginCall[] = [];
    const res = await addNetworkList(list([{ type: 'a', x: 1 }, { type: 'b', capabilities: { portMappings: true } }]), rt, { dirs: [dir], onCall: (c) => seen.push(c) });
    expect(res).toEqual(R2);
    const [a, b] = calls();
    expect(a).toMatchObject({ plugin: 'a', command: 'ADD', stdin: { type: 'a', x: 1, name: 'net1', cniVersion: '1.0.0' } });
    expect(a!.stdin.prevResult).toBeUndefined();
    expect(a!.stdin.runtimeConfig).toBeUndefined(); // no capability: no runtimeConfig
    expect(b!.stdin.prevResult).toEqual(R1);
    expect(b!.stdin.runtimeConfig).toEqual({ portMappings: rt.capabilityArgs!.portMappings });
    expect(seen.map((c) => [c.plugin, c.command, c.outcome])).toEqual([['a', 'ADD', 'ok'], ['b', 'ADD', 'ok']]);
    expect(seen[0]!.result).toEqual(R1);
  });

  it('gives the plugin its arguments in CNI_* variables', async () => {
    fakePlugin('a', R1);
    await addNetworkList(list([{ type: 'a' }]), { ...rt, args: [['IgnoreUnknown', '1'], ['K', 'v']] }, { dirs: [dir, '/nonexistent'] });
    expect(readFileSync(join(dir, 'env-a-ADD'), 'utf8').trim().split('\n')).toEqual([
      'CNI_ARGS=IgnoreUnknown=1;K=v', 'CNI_COMMAND=ADD', 'CNI_CONTAINERID=c1', 'CNI_IFNAME=eth0', 'CNI_NETNS=/run/x/netns', `CNI_PATH=${dir}:/nonexistent`,
    ]);
  });

  it('a failing plugin is named with its CNI error, and later plugins do not run', async () => {
    fakePlugin('a', R1);
    fakePlugin('bad', undefined, { fail: '{"cniVersion":"1.0.0","code":11,"msg":"failed to set bridge addr","details":"could not add IP address to \\"tsrun0\\": file exists"}' });
    fakePlugin('c', R2);
    const err = await addNetworkList(list([{ type: 'a' }, { type: 'bad' }, { type: 'c' }]), rt, { dirs: [dir] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniPluginError);
    expect((err as Error).message).toBe('network net1: CNI plugin bad (ADD) failed: failed to set bridge addr: could not add IP address to "tsrun0": file exists (CNI error code 11)');
    expect(calls().map((c) => c.plugin)).toEqual(['a', 'bad']);
  });

  it('a plugin without a CNI error object is named with its last stderr line and exit status', async () => {
    writeFileSync(join(dir, 'crash'), '#!/bin/sh\ncat >/dev/null; echo "panic: runtime error" >&2; exit 2\n');
    chmodSync(join(dir, 'crash'), 0o755);
    await expect(addNetworkList(list([{ type: 'crash' }]), rt, { dirs: [dir] })).rejects.toThrow('network net1: CNI plugin crash (ADD) failed: panic: runtime error (exit status 2)');
  });

  it('a missing plugin names the type and CNI_PATH; a type that is a path is never run', async () => {
    await expect(addNetworkList(list([{ type: 'nosuch' }]), rt, { dirs: [dir] })).rejects.toThrow(`no plugin binary "nosuch" in CNI_PATH (${dir})`);
    fakePlugin('a', R1);
    expect(findPlugin('../' + dir.split('/').pop() + '/a', [dir])).toBeUndefined();
    expect(findPlugin(join(dir, 'a'), ['/'])).toBeUndefined();
    expect(findPlugin('a', [dir])).toBe(join(dir, 'a'));
  });

  it('a plugin that hangs is killed at the timeout, and named', async () => {
    fakePlugin('slow', R1, { sleep: 5 });
    await expect(addNetworkList(list([{ type: 'slow' }]), rt, { dirs: [dir], timeoutMs: 300 })).rejects.toThrow('CNI plugin slow (ADD) failed: did not finish within 0.3 s (killed)');
  });

  it('an answer that is not a CNI result is an error', async () => {
    writeFileSync(join(dir, 'junk'), '#!/bin/sh\ncat >/dev/null; echo hello\n');
    chmodSync(join(dir, 'junk'), 0o755);
    await expect(addNetworkList(list([{ type: 'junk' }]), rt, { dirs: [dir] })).rejects.toThrow(/junk \(ADD\) failed: its result is not a CNI result/);
  });
});

describe('DEL and CHECK', () => {
  it('DEL runs every plugin last first with the cached result, even past a failure, then throws the first', async () => {
    fakePlugin('a', R1);
    fakePlugin('bad', undefined, { fail: '{"code":7,"msg":"cannot reach iptables"}' });
    fakePlugin('c', R2);
    const err = await delNetworkList(list([{ type: 'a' }, { type: 'bad' }, { type: 'c' }]), rt, R2, { dirs: [dir] }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/plugin bad \(DEL\) failed: cannot reach iptables \(CNI error code 7\)/);
    expect(calls().map((c) => `${c.plugin} ${c.command}`)).toEqual(['c DEL', 'bad DEL', 'a DEL']);
    expect(calls().every((c) => JSON.stringify(c.stdin.prevResult) === JSON.stringify(R2))).toBe(true);
  });

  it('DEL without a cached result (ADD never finished) sends no prevResult', async () => {
    fakePlugin('a', R1);
    await delNetworkList(list([{ type: 'a' }]), { ...rt, netns: '' }, undefined, { dirs: [dir] });
    expect(calls()[0]!.stdin.prevResult).toBeUndefined();
    expect(readFileSync(join(dir, 'env-a-DEL'), 'utf8')).toContain('CNI_NETNS=\n');
  });

  it('CHECK runs in order with the cached result; skipped before 0.4.0 and with disableCheck', async () => {
    fakePlugin('a', R1);
    fakePlugin('b', R2);
    expect(await checkNetworkList(list([{ type: 'a' }, { type: 'b' }]), rt, R2, { dirs: [dir] })).toBe('checked');
    expect(calls().map((c) => `${c.plugin} ${c.command}`)).toEqual(['a CHECK', 'b CHECK']);
    expect(calls()[0]!.stdin.prevResult).toEqual(R2);
    expect(await checkNetworkList(list([{ type: 'a' }], '0.3.1'), rt, R2, { dirs: [dir] })).toBe('skipped');
    expect(await checkNetworkList({ ...list([{ type: 'a' }]), disableCheck: true }, rt, R2, { dirs: [dir] })).toBe('skipped');
    expect(existsSync(join(dir, 'env-a-CHECK'))).toBe(true);
  });
});

describe('results and stdin', () => {
  it('reads a 0.2.0 result (ip4/ip6) in the current shape', () => {
    expect(currentShape({ cniVersion: '0.2.0', ip4: { ip: '10.0.0.2/24', gateway: '10.0.0.1', routes: [{ dst: '0.0.0.0/0' }] } }))
      .toEqual({ cniVersion: '0.2.0', ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1' }], routes: [{ dst: '0.0.0.0/0' }] });
    expect(currentShape(R1)).toBe(R1);
  });

  it('the list\'s name and version override a plugin\'s own', () => {
    expect(pluginStdin(list([{ type: 'a', name: 'other', cniVersion: '0.1.0' }]), { type: 'a', name: 'other', cniVersion: '0.1.0' }, rt, undefined)).toMatchObject({ name: 'net1', cniVersion: '1.0.0' });
  });
});
