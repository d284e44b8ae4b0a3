// The network as a normal user (issue 18): `--network none` (lo only, up) and the user-mode network
// `--network slirp4netns`, which tsrun starts once the container's namespace exists, records in
// network.json and stops at delete; published ports (-p, through slirp's API) and the library's
// forwardPort; cleanup after tsrun is killed; the errors. Every command runs inside a network (and
// mount) namespace the test makes (user-netns.ts): slirp4netns listens and connects only there.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, cpSync, existsSync, readdirSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, makeBundle } from '../../helpers/bundle.js';
import { LAUNCHER, asUser, cannotRunRootless, createRootlessUser, removeRootlessUser, userBundle, userProcesses, type RootlessUser } from './user.js';
import { UPLINK, UserNetns } from './user-netns.js';

const skip = cannotRunRootless() ?? (existsSync('/usr/bin/slirp4netns') ? undefined : 'slirp4netns is not installed (make deps)');
const HTTPD = ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Collects a test server's stdout and waits (5 s at most) for its "ready" line: what it printed, as it grows. */
async function untilReady(server: ChildProcess): Promise<() => string> {
  let out = '';
  server.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  for (let i = 0; i < 100 && !out.includes('ready'); i++) await sleep(50);
  return () => out;
}
/**
 * A DNS server of the test's on UPLINK:53 (in the test namespace): web.tsrun.test is 10.231.0.7 (A),
 * every other question gets an empty answer; each question is printed.
 */
const DNS_SERVER = `
  const s = require('node:dgram').createSocket('udp4');
  s.on('message', (q, from) => {
    const labels = []; let i = 12;
    while (q[i]) { labels.push(q.toString('latin1', i + 1, i + 1 + q[i])); i += q[i] + 1; }
    const name = labels.join('.'); const type = q.readUInt16BE(i + 1);
    console.log('query ' + name + ' ' + type);
    const hit = name === 'web.tsrun.test' && type === 1;
    const head = Buffer.alloc(12); q.copy(head, 0, 0, 2); head.writeUInt16BE(0x8180, 2); head.writeUInt16BE(1, 4); head.writeUInt16BE(hit ? 1 : 0, 6);
    const answer = hit ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 231, 0, 7]) : Buffer.alloc(0);
    s.send(Buffer.concat([head, q.subarray(12, i + 5), answer]), from.port, from.address);
  });
  s.bind(53, '${UPLINK}', () => console.log('ready'));
`;

describe.skipIf(skip !== undefined)(`rootless: the network as a normal user${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let user: RootlessUser;
  let ns: UserNetns;
  beforeAll(async () => { user = createRootlessUser(); ns = await UserNetns.create(); });
  afterAll(() => { ns?.close(); if (user) removeRootlessUser(user); });
  const stateRoot = (): string => join(user.runtimeDir, 'tsrun');
  const tsrun = (args: readonly string[], opts: Parameters<typeof asUser>[2] = {}): ReturnType<typeof asUser> => asUser(user, args, { prefix: ns.prefix, ...opts });
  const oneLine = (stderr: string): void => {
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  };
  /** The user's slirp4netns processes (and the gate that execs it), polled until none is left. */
  const slirpsLeft = async (): Promise<string[]> => {
    let left: string[] = [];
    for (let i = 0; i < 100; i++) {
      left = userProcesses(user).filter((l) => /slirp4netns/.test(l));
      if (left.length === 0) return left;
      await sleep(50);
    }
    return left;
  };
  const httpdBundle = async (name: string, text: string): Promise<string> => {
    const b = await userBundle(user, name, (s) => { s.process!.args = HTTPD; });
    mkdirSync(join(b, 'rootfs/www'));
    writeFileSync(join(b, 'rootfs/www/index.html'), text);
    return b;
  };
  /** curl inside the test namespace, as root (the "host" side of a published port). */
  const curlInNs = async (port: number): Promise<string | undefined> => {
    for (let i = 0; i < 100; i++) {
      try { return ns.exec(['curl', '-s', '--max-time', '2', `http://127.0.0.1:${port}/index.html`]); } catch { await sleep(50); }
    }
    return undefined;
  };

  it('--network none: a namespace of its own with only lo, up', async () => {
    const b = await userBundle(user, 'none1', (s) => { s.process!.args = ['ip', '-o', 'link']; });
    const r = await tsrun(['run', '--network', 'none', '--bundle', b, 'none1']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const links = r.stdout.trim().split('\n');
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
  });

  it('--network slirp4netns: tap0 10.0.2.100/24 (mtu 65520), outbound TCP to the namespace\'s own address, no host loopback; stopped at the end', { timeout: 60_000 }, async () => {
    // A server on the test namespace's uplink address (reached through slirp's NAT) and one on its
    // 127.0.0.1, which the container must not reach through 10.0.2.2 (--disable-host-loopback).
    const server = ns.start(['node', '-e', `
      const net = require('node:net'); let n = 0;
      const up = () => { if (++n === 2) console.log('ready'); };
      net.createServer((s) => s.once('data', (d) => { console.log('got ' + d.toString().trim()); s.end('pong\\n'); })).listen(18231, '${UPLINK}', up);
      net.createServer((s) => s.once('data', (d) => { console.log('loopback ' + d.toString().trim()); s.end('no\\n'); })).listen(18232, '127.0.0.1', up);
    `]);
    try {
      const out = await untilReady(server);
      expect(out()).toContain('ready');
      const b = await userBundle(user, 'slirp1', (s) => {
        s.process!.args = ['sh', '-c', `ip -o link show tap0; ip -o -4 addr show tap0; ip route; echo ping | nc -w 5 ${UPLINK} 18231; echo out=$?; echo x | nc -w 2 10.0.2.2 18232 2>/dev/null; echo lo=$?`];
      });
      const r = await tsrun(['run', '--network', 'slirp4netns', '--bundle', b, 'slirp1'], { timeoutMs: 30_000 });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/tap0: .* mtu 65520 /);
      expect(r.stdout).toMatch(/tap0\s+inet 10\.0\.2\.100\/24/);
      expect(r.stdout).toMatch(/^default via 10\.0\.2\.2 dev tap0/m);
      expect(r.stdout).toMatch(/^pong\nout=0$/m);
      expect(r.stdout).toMatch(/^lo=1$/m);
      expect(out()).toContain('got ping');
      expect(out()).not.toContain('loopback');
    } finally {
      server.kill('SIGKILL');
    }
    // Not polled: the foreground run started slirp4netns and reaped it at its delete, before it exited.
    expect(userProcesses(user).filter((l) => /slirp4netns/.test(l))).toEqual([]);
    expect(existsSync(join(stateRoot(), 'slirp1'))).toBe(false);
  });

  it('--network slirp4netns: /etc/resolv.conf names slirp4netns\'s DNS (10.0.2.3) with the host\'s search and options, read-only; names resolve through it; the rootfs\'s own file is untouched', { timeout: 60_000 }, async () => {
    // The test namespace's "host" resolv.conf (bound in its private mount namespace) names the test's
    // DNS server on UPLINK: slirp4netns forwards 10.0.2.3 there, so no query leaves the namespace.
    const dir = mkdtempSync('/tmp/tsrun-rl-dns-');
    writeFileSync(join(dir, 'resolv.conf'), `# the test's host\nnameserver ${UPLINK}\nsearch tsrun.test\noptions ndots:1 timeout:1\n`);
    ns.exec(['mount', '--bind', join(dir, 'resolv.conf'), '/etc/resolv.conf']);
    const server = ns.start(['node', '-e', DNS_SERVER]);
    try {
      const out = await untilReady(server);
      expect(out()).toContain('ready');
      const b = await userBundle(user, 'dns1', (s) => {
        s.process!.args = ['sh', '-c', 'cat /etc/resolv.conf; echo ---; nslookup web.tsrun.test; (echo x > /etc/resolv.conf) 2>/dev/null; echo w=$?'];
      });
      // The image's own file: the container sees the state dir's over it, and it stays as it was.
      const own = join(b, 'rootfs/etc/resolv.conf');
      writeFileSync(own, 'nameserver 192.0.2.1\n');
      chownSync(own, user.uid, user.gid);
      const r = await tsrun(['run', '--network', 'slirp4netns', '--bundle', b, 'dns1'], { timeoutMs: 30_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout.split('---\n')[0]).toBe('nameserver 10.0.2.3\nsearch tsrun.test\noptions ndots:1 timeout:1\n');
      expect(r.stdout).toMatch(/^Address:\s+10\.231\.0\.7$/m);
      expect(r.stdout).toMatch(/^w=[1-9]\d*$/m);
      expect(out()).toMatch(/^query web\.tsrun\.test 1$/m);
      expect(readFileSync(own, 'utf8')).toBe('nameserver 192.0.2.1\n');
      expect(existsSync(join(stateRoot(), 'dns1'))).toBe(false);
      // Without the user-mode network the rootfs's file is the container's.
      const none = await tsrun(['run', '--network', 'none', '--bundle', b, 'dns2']);
      expect(none.stdout.split('---\n')[0]).toBe('nameserver 192.0.2.1\n');
    } finally {
      server.kill('SIGKILL');
      ns.exec(['umount', '/etc/resolv.conf']);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('run --image with --network slirp4netns: the same resolv.conf over the image\'s overlay, read by the image\'s USER', { timeout: 60_000 }, async () => {
    const layout = join(user.work, 'dns-layers');
    cpSync(join(REPO, 'rootfs-samples/build/busybox-layers'), layout, { recursive: true });
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, layout]);
    const r = await tsrun(['run', '--image', layout, '--network', 'slirp4netns', '--', 'id -u; head -n 1 /etc/resolv.conf'], { timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('1000\nnameserver 10.0.2.3\n');
    expect(readdirSync(stateRoot())).toEqual([]);
  });

  it('--network slirp4netns as root (no user namespace: the init mounts at once, so the file is written before it is spawned)', { timeout: 60_000 }, async () => {
    const b = makeBundle({ mutate: (s) => { s.process!.args = ['head', '-n', '1', '/etc/resolv.conf']; } });
    const root = mkdtempSync('/tmp/tsrun-rl-root-');
    try {
      const r = await execa(ns.prefix[0]!, [...ns.prefix.slice(1), LAUNCHER, '--root', root, 'run', '--network', 'slirp4netns', '--bundle', b.dir, 'rootdns'], { reject: false, timeout: 30_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('nameserver 10.0.2.3'); // execa takes off the last newline
      expect(r.exitCode).toBe(0);
      expect(readdirSync(root)).toEqual([]);
    } finally {
      b.remove();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('with subordinate ids (newuidmap writes the maps): the same network', { timeout: 60_000 }, async () => {
    const b = await userBundle(user, 'subnet', (s) => {
      s.linux!.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: user.subuid!.start, size: 1000 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: user.gid, size: 1 }, { containerID: 1, hostID: user.subgid!.start, size: 1000 }];
      s.process!.args = ['sh', '-c', 'cat /proc/self/uid_map; ip -o -4 addr show tap0'];
    });
    const r = await tsrun(['run', '--network', 'slirp4netns', '--bundle', b, 'subnet'], { timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^\\s*1\\s+${user.subuid!.start}\\s+1000$`, 'm'));
    expect(r.stdout).toMatch(/tap0\s+inet 10\.0\.2\.100\/24/);
    expect(userProcesses(user).filter((l) => /slirp4netns/.test(l))).toEqual([]);
  });

  it('create -p and delete: the port is published on the namespace\'s 127.0.0.1 while the container lives; delete stops slirp4netns', { timeout: 60_000 }, async () => {
    const b = await httpdBundle('pub1', 'hello from pub1\n');
    const c = await tsrun(['create', '--network', 'slirp4netns', '-p', '18233:8080', '--bundle', b, 'pub1'], { detached: true });
    expect(c.stderr).toBe('');
    expect(c.exitCode).toBe(0);
    const net = JSON.parse(readFileSync(join(stateRoot(), 'pub1/network.json'), 'utf8')) as { driver: string; phase: string; helper: { pid: number } };
    expect(net.driver).toBe('slirp4netns');
    expect(net.phase).toBe('started');
    expect(readFileSync(`/proc/${net.helper.pid}/comm`, 'utf8').trim()).toBe('slirp4netns');
    expect((await tsrun(['start', 'pub1'])).exitCode).toBe(0);
    expect(await curlInNs(18233)).toBe('hello from pub1\n');
    const st = JSON.parse((await tsrun(['state', 'pub1'])).stdout) as { network: { network: string; ips: { address: string }[]; ports: unknown[] } };
    expect(st.network.network).toBe('slirp4netns');
    expect(st.network.ips[0]!.address).toBe('10.0.2.100/24');
    expect(st.network.ports).toEqual([{ hostPort: 18233, containerPort: 8080, protocol: 'tcp' }]);
    const ins = await tsrun(['inspect', 'pub1']);
    expect(ins.stderr).toBe('');
    expect(ins.stdout).toContain('user-mode network slirp4netns: tap0 10.0.2.100/24 via 10.0.2.2');
    expect(ins.stdout).toContain(`carried by slirp4netns (pid ${net.helper.pid})`);
    const chk = await tsrun(['network', 'check', 'pub1']);
    expect(chk.stderr).toBe('');
    expect(chk.exitCode).toBe(0);
    // The same host port again: slirp4netns cannot listen; one line naming -p, and nothing left of the second.
    const b2 = await httpdBundle('pub2', 'two\n');
    const taken = await tsrun(['run', '--network', 'slirp4netns', '-p', '18233:8080', '--bundle', b2, 'pub2']);
    expect(taken.exitCode).not.toBe(0);
    oneLine(taken.stderr);
    expect(taken.stderr).toMatch(/^tsrun: -p 18233:8080\/tcp: slirp4netns could not listen on the host side .*port 18233\/tcp taken/);
    expect(existsSync(join(stateRoot(), 'pub2'))).toBe(false);
    expect(userProcesses(user).filter((l) => /slirp4netns/.test(l)).map((l) => Number(l.split(' ')[0]))).toEqual([net.helper.pid]);
    const d = await tsrun(['delete', '--force', 'pub1']);
    expect(d.stderr).toBe('');
    expect(d.exitCode).toBe(0);
    expect(await slirpsLeft()).toEqual([]);
    expect(existsSync(join(stateRoot(), 'pub1'))).toBe(false);
    expect(() => ns.exec(['curl', '-s', '--max-time', '2', 'http://127.0.0.1:18233/'])).toThrow();
  });

  it('a podman-length id (64 hex digits): the API socket is reached whatever the state dir\'s length; network check fails once slirp4netns is gone', { timeout: 60_000 }, async () => {
    const id = 'ab'.repeat(32);
    const b = await httpdBundle('longid', 'long\n');
    expect((await tsrun(['create', '--network', 'slirp4netns', '-p', '18236:8080', '--bundle', b, id], { detached: true })).stderr).toBe('');
    expect((await tsrun(['start', id])).exitCode).toBe(0);
    expect(await curlInNs(18236)).toBe('long\n');
    const net = JSON.parse(readFileSync(join(stateRoot(), id, 'network.json'), 'utf8')) as { helper: { pid: number } };
    execFileSync('kill', ['-9', String(net.helper.pid)]);
    let chk = await tsrun(['network', 'check', id]);
    for (let i = 0; i < 50 && chk.exitCode === 0; i++) { await sleep(50); chk = await tsrun(['network', 'check', id]); }
    expect(chk.exitCode).not.toBe(0);
    expect(chk.stderr).toMatch(/its slirp4netns \(pid \d+\) is gone/);
    expect((await tsrun(['delete', '--force', id])).exitCode).toBe(0);
    expect(existsSync(join(stateRoot(), id))).toBe(false);
  });

  it('the library as the user: network slirp4netns with ports, Container.ip, forwardPort, slirp4netns\'s resolv.conf; stop() leaves nothing', { timeout: 60_000 }, async () => {
    const b = await httpdBundle('api1', 'hello from the library\n');
    const script = `
      import { start } from ${JSON.stringify(join(REPO, 'dist/api/index.js'))};
      import { get } from 'node:http';
      const httpGet = (port) => new Promise((res, rej) => get({ host: '127.0.0.1', port, path: '/index.html', agent: false }, (r) => { let b = ''; r.on('data', (c) => { b += c; }); r.on('end', () => res(b)); }).on('error', rej));
      const c = await start({ bundle: ${JSON.stringify(b)}, id: 'api1', cmd: ${JSON.stringify(HTTPD)}, network: 'slirp4netns', ports: ['18234:8080'] }, { root: ${JSON.stringify(stateRoot())} });
      try {
        let viaPublished;
        for (let i = 0; i < 100 && !viaPublished; i++) viaPublished = await httpGet(18234).catch(() => new Promise((r) => setTimeout(() => r(undefined), 50)));
        const fwd = await c.forwardPort(8080);
        const resolvConf = (await c.exec(['head', '-n', '1', '/etc/resolv.conf'])).stdout;
        console.log(JSON.stringify({ ip: c.ip, viaPublished, viaForward: await httpGet(fwd.port), resolvConf }));
      } finally {
        await c.stop({ timeoutMs: 2000 });
      }
    `;
    const r = await execa(ns.prefix[0]!, [...ns.prefix.slice(1), 'setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--reset-env',
      'env', `XDG_RUNTIME_DIR=${user.runtimeDir}`, 'node', '--input-type=module', '-e', script], { cwd: user.work, reject: false, timeout: 40_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(String(r.stdout))).toEqual({ ip: '10.0.2.100', viaPublished: 'hello from the library\n', viaForward: 'hello from the library\n', resolvConf: 'nameserver 10.0.2.3\n' });
    expect(await slirpsLeft()).toEqual([]);
    expect(existsSync(join(stateRoot(), 'api1'))).toBe(false);
  });

  it('tsrun killed with SIGKILL once the network runs: delete --force stops slirp4netns and removes the rest', { timeout: 60_000 }, async () => {
    const b = await httpdBundle('k9net', 'k9\n');
    const run = tsrun(['run', '--network', 'slirp4netns', '-p', '18235:8080', '--bundle', b, 'k9net'], { timeoutMs: 30_000 });
    expect(await curlInNs(18235)).toBe('k9\n');
    const me = userProcesses(user).find((l) => / run --network slirp4netns .* k9net$/.test(l));
    expect(me).toBeDefined();
    execFileSync('kill', ['-9', me!.split(' ')[0]!]);
    await run;
    const net = JSON.parse(readFileSync(join(stateRoot(), 'k9net/network.json'), 'utf8')) as { helper: { pid: number } };
    expect(readFileSync(`/proc/${net.helper.pid}/comm`, 'utf8').trim()).toBe('slirp4netns');
    const d = await tsrun(['delete', '--force', 'k9net']);
    expect(d.stderr).toBe('');
    expect(d.exitCode).toBe(0);
    expect(await slirpsLeft()).toEqual([]);
    expect(existsSync(join(stateRoot(), 'k9net'))).toBe(false);
  });

  it('tsrun killed while slirp4netns starts (one that never gets ready): delete --force stops it', { timeout: 60_000 }, async () => {
    const fake = join(user.work, 'fake-bin');
    mkdirSync(fake);
    writeFileSync(join(fake, 'slirp4netns'), '#!/bin/sh\nexec sleep 602\n');
    chmodSync(join(fake, 'slirp4netns'), 0o755);
    const b = await userBundle(user, 'k9start', (s) => { s.process!.args = ['true']; });
    const run = tsrun(['run', '--network', 'slirp4netns', '--bundle', b, 'k9start'], { timeoutMs: 30_000, env: { PATH: `${fake}:/usr/bin:/bin` } });
    let helper = 0;
    for (let i = 0; i < 200 && helper === 0; i++) {
      await sleep(50);
      try {
        const net = JSON.parse(readFileSync(join(stateRoot(), 'k9start/network.json'), 'utf8')) as { phase: string; helper?: { pid: number } };
        if (net.phase === 'starting' && net.helper && readFileSync(`/proc/${net.helper.pid}/cmdline`, 'utf8').startsWith('sleep')) helper = net.helper.pid;
      } catch { /* not yet */ }
    }
    expect(helper).toBeGreaterThan(0);
    const me = userProcesses(user).find((l) => / run --network slirp4netns .* k9start$/.test(l));
    execFileSync('kill', ['-9', me!.split(' ')[0]!]);
    await run;
    const d = await tsrun(['delete', '--force', 'k9start']);
    expect(d.stderr).toBe('');
    expect(d.exitCode).toBe(0);
    for (let i = 0; i < 100 && existsSync(`/proc/${helper}`); i++) await sleep(50);
    expect(existsSync(`/proc/${helper}`)).toBe(false);
    expect(existsSync(join(stateRoot(), 'k9start'))).toBe(false);
  });

  it('slirp4netns not installed: one line naming the Debian package; nothing left', async () => {
    const bin = join(user.work, 'node-only');
    mkdirSync(bin);
    symlinkSync('/usr/bin/node', join(bin, 'node'));
    const b = await userBundle(user, 'nobin', (s) => { s.process!.args = ['true']; });
    const r = await tsrun(['run', '--network', 'slirp4netns', '--bundle', b, 'nobin'], { env: { PATH: bin } });
    expect(r.exitCode).not.toBe(0);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/slirp4netns is not on PATH .*apt-get install slirp4netns/);
    expect(existsSync(join(stateRoot(), 'nobin'))).toBe(false);
  });

  it('/dev/net/tun that the user cannot open: one line naming it, its mode and the fix; nothing left', { timeout: 30_000 }, async () => {
    const closed = await UserNetns.create({ tunMode: 0o600 });
    try {
      const b = await userBundle(user, 'notun', (s) => { s.process!.args = ['true']; });
      const r = await asUser(user, ['run', '--network', 'slirp4netns', '--bundle', b, 'notun'], { prefix: closed.prefix });
      expect(r.exitCode).not.toBe(0);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(/\/dev\/net\/tun .*0600.*chmod 0666 \/dev\/net\/tun/);
      expect(existsSync(join(stateRoot(), 'notun'))).toBe(false);
      const check = async (prefix: string[]): Promise<{ status: string; detail: string } | undefined> =>
        (JSON.parse((await asUser(user, ['check', '--format', 'json'], { prefix })).stdout) as { items: { name: string; status: string; detail: string }[] }).items.find((i) => i.name === 'user-mode network');
      expect(await check(closed.prefix)).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^--network slirp4netns cannot work: \/dev\/net\/tun is mode 0600/) });
      expect(await check(ns.prefix)).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^--network slirp4netns works: \/\S*slirp4netns, \/dev\/net\/tun usable/) });
    } finally {
      closed.close();
    }
    expect(await slirpsLeft()).toEqual([]);
  });

  it('--network bridge as a user: refused naming root and slirp4netns', async () => {
    const b = await userBundle(user, 'br', (s) => { s.process!.args = ['true']; });
    const r = await tsrun(['run', '--network', 'bridge', '--bundle', b, 'br']);
    expect(r.exitCode).not.toBe(0);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/--network.*bridge.*root.*--network slirp4netns/);
    expect(existsSync(join(stateRoot(), 'br'))).toBe(false);
  });
});
