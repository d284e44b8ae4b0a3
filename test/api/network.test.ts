// The library's networking (issue 17 in issue 15's API): the spec's `network` and `ports`, and
// Container.ip, connect, forwardPort. In this process only `network: 'none'` (nothing of the machine's
// network changes); a bridge runs in a child process inside a network namespace this test makes,
// importing the built package (dist/api), so that the CNI plugins change only that namespace.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { start, ConfigError } from '../../src/api/index.js';
import { REPO } from '../helpers/bundle.js';
import { httpGet, request } from '../helpers/http.js';
import { TestNetns } from '../integration/network/netns.js';
import { leftovers, SAMPLE_BUNDLE, skipReason, testRoot } from './helpers.js';

const t = testRoot();
const root = t.root;
const work = mkdtempSync(join(tmpdir(), 'tsrun-api-net-'));
afterAll(() => { t.remove(); rmSync(work, { recursive: true, force: true }); });

/** A copy of the sample bundle with a page for busybox httpd. */
function httpdBundle(name: string): string {
  const dir = join(work, name);
  cpSync(SAMPLE_BUNDLE, dir, { recursive: true });
  mkdirSync(join(dir, 'rootfs/www'), { recursive: true });
  writeFileSync(join(dir, 'rootfs/www/index.html'), `hello from ${name}\n`);
  return dir;
}
const HTTPD = ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'];

const cniMissing = existsSync('/usr/lib/cni/bridge') ? undefined : 'the CNI plugins are missing (make deps)';

describe.skipIf(skipReason)('the library\'s network', () => {
  it('network none: no ip; connect and forwardPort reach its httpd on its own lo; stop() closes the forward', async () => {
    const c = await start({ bundle: httpdBundle('none'), id: 'api-net-none', cmd: HTTPD, network: 'none' }, { root });
    try {
      expect(c.ip).toBeUndefined();
      let sock;
      for (let i = 0; i < 100 && !sock; i++) sock = await c.connect(8080).catch(async () => { await new Promise((r) => setTimeout(r, 50)); return undefined; });
      expect(sock).toBeDefined();
      const reply = await request(sock!);
      expect(reply).toContain('hello from none');
      const fwd = await c.forwardPort(8080);
      expect(fwd.host).toBe('127.0.0.1');
      expect(await httpGet(fwd.port)).toBe('hello from none\n');
      await c.stop({ timeoutMs: 2_000 });
      await expect(httpGet(fwd.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await c.stop({ timeoutMs: 2_000 });
    }
    expect(leftovers(root, c.id)).toEqual([]);
  });

  it('ports without a bridge, or an unknown network, are refused before anything is made', async () => {
    await expect(start({ bundle: SAMPLE_BUNDLE, id: 'api-net-bad', cmd: ['true'], network: 'none', ports: ['80:80'] }, { root })).rejects.toBeInstanceOf(ConfigError);
    await expect(start({ bundle: SAMPLE_BUNDLE, id: 'api-net-bad', cmd: ['true'], network: 'sideways' }, { root })).rejects.toThrow(/--network/);
    expect(leftovers(root, 'api-net-bad')).toEqual([]);
  });

  it.skipIf(cniMissing !== undefined)('network bridge with ports (in a child process inside a test network namespace): ip, portmap, forwardPort; stop() removes the veth and rules', { timeout: 60_000 }, async () => {
    const ns = await TestNetns.create();
    try {
      const env = { TSRUN_NETWORK_DIR: join(work, 'net.d'), NETCONFPATH: join(work, 'no-system') };
      const net = `apinet${process.pid}`;
      expect((await ns.tsrun(['network', 'create', net, '--subnet', '10.241.0.0/24'], { env })).stderr).toBe('');
      const script = `
        import { start } from ${JSON.stringify(join(REPO, 'dist/api/index.js'))};
        import { get } from 'node:http';
        const httpGet = (port) => new Promise((res, rej) => get({ host: '127.0.0.1', port, path: '/index.html', agent: false }, (r) => { let b = ''; r.on('data', (c) => { b += c; }); r.on('end', () => res(b)); }).on('error', rej));
        const c = await start({ bundle: ${JSON.stringify(httpdBundle('bridge'))}, id: 'api-net-bridge', cmd: ${JSON.stringify(HTTPD)}, network: 'bridge:${net}', ports: ['18096:8080'] }, { root: ${JSON.stringify(root)} });
        try {
          let viaPortmap;
          for (let i = 0; i < 100 && !viaPortmap; i++) viaPortmap = await httpGet(18096).catch(() => new Promise((r) => setTimeout(() => r(undefined), 50)));
          const fwd = await c.forwardPort(8080);
          console.log(JSON.stringify({ ip: c.ip, ports: c.state().network.ports, viaPortmap, viaForward: await httpGet(fwd.port) }));
        } finally {
          await c.stop({ timeoutMs: 2000 });
        }`;
      const out = await new Promise<string>((resolve, reject) => {
        execFile('nsenter', [`--net=${ns.path}`, '--', 'node', '--input-type=module', '-e', script], { env: { ...process.env, ...env }, timeout: 45_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
      });
      const got = JSON.parse(out) as { ip: string; ports: unknown[]; viaPortmap: string; viaForward: string };
      expect(got.ip).toMatch(/^10\.241\.0\.\d+$/);
      expect(got.ports).toEqual([{ hostPort: 18096, containerPort: 8080, protocol: 'tcp' }]);
      expect(got.viaPortmap).toBe('hello from bridge\n');
      expect(got.viaForward).toBe('hello from bridge\n');
      expect(ns.links().filter((l) => l.startsWith('veth'))).toEqual([]);
      expect(ns.rules().filter((l) => l.includes('18096') || l.includes(got.ip))).toEqual([]);
      expect(leftovers(root, 'api-net-bridge')).toEqual([]);
      await ns.tsrun(['network', 'rm', net], { env });
    } finally {
      ns.close();
    }
  });
});
