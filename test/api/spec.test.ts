// The spec's fields, each seen from inside a real container: env, cwd, user, hostname, bind and tmpfs
// mounts, readonlyRoot, capAdd/capDrop, limits on this hybrid host (error/warn/ignore), config(),
// and the three sources: bundle, rootfs, image (an OCI layout, and a registry reference pulled as
// `run --image` pulls it).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, TsrunError } from '../../src/api/index.js';
import { detectCgroupHost } from '../../src/cgroups/index.js';
import { startRegistry, type RunningRegistry } from '../integration/registry/registry-server.js';
import { SAMPLE } from '../integration/registry/images.js';
import { capEff, leftovers, SAMPLE_BUNDLE, SAMPLE_ROOTFS, skipReason, testRoot } from './helpers.js';

const t = testRoot();
const scratch = mkdtempSync(`${tmpdir()}/tsrun-api-spec-`);
afterAll(() => { t.remove(); rmSync(scratch, { recursive: true, force: true }); });
const root = t.root;
const sh = (script: string): string[] => ['sh', '-c', script];

const CAP_NET_ADMIN = 1n << 12n;
const CAP_KILL = 1n << 5n;

describe.skipIf(skipReason)('spec fields', () => {
  it('env, cwd, user, hostname', async () => {
    const r = await run({ bundle: SAMPLE_BUNDLE, env: { A: '1', PATH: '/bin:/usr/bin' }, cwd: '/etc', user: '1000:1001', hostname: 'apibox', cmd: sh('echo $A $PATH; pwd; id -u; id -g; hostname') }, { root });
    expect(r.stdout).toBe('1 /bin:/usr/bin\n/etc\n1000\n1001\napibox\n');
  });

  it('bind mounts (ro and rw) and tmpfs', async () => {
    const dir = mkdtempSync(`${scratch}/bind-`);
    writeFileSync(`${dir}/f`, 'from the host');
    const r = await run({
      bundle: SAMPLE_BUNDLE,
      // Targets that exist in the sample: a missing one would be made in the shared bundle's rootfs.
      mounts: [{ type: 'bind', source: dir, target: '/mnt', readonly: true }, { type: 'bind', source: dir, target: '/opt' }, { type: 'tmpfs', target: '/srv', size: '1m' }],
      cmd: sh('cat /mnt/f; echo; touch /mnt/x 2>/dev/null || echo ro-refused; echo w > /opt/written; grep " /srv " /proc/mounts | cut -d" " -f3'),
    }, { root });
    expect(r.stdout).toBe('from the host\nro-refused\ntmpfs\n');
    expect(r.exitCode).toBe(0);
  });

  it('readonlyRoot true and false', async () => {
    const ro = await run({ bundle: SAMPLE_BUNDLE, readonlyRoot: true, cmd: sh('touch /probe 2>/dev/null && echo wrote || echo refused') }, { root });
    expect(ro.stdout).toBe('refused\n');
    const rw = await run({ bundle: SAMPLE_BUNDLE, readonlyRoot: false, mounts: [{ type: 'tmpfs', target: '/srv' }], cmd: sh('grep " / " /proc/mounts | grep -c " ro[ ,]" || true') }, { root });
    expect(rw.stdout).toBe('0\n');
  });

  it('capAdd and capDrop change the capability sets', async () => {
    const base = capEff((await run({ bundle: SAMPLE_BUNDLE, cmd: sh('grep CapEff /proc/self/status') }, { root })).stdout);
    expect(base & CAP_NET_ADMIN).toBe(0n);
    expect(base & CAP_KILL).toBe(CAP_KILL);
    const changed = capEff((await run({ bundle: SAMPLE_BUNDLE, capAdd: ['NET_ADMIN'], capDrop: ['CAP_KILL'], cmd: sh('grep CapEff /proc/self/status') }, { root })).stdout);
    expect(changed & CAP_NET_ADMIN).toBe(CAP_NET_ADMIN);
    expect(changed & CAP_KILL).toBe(0n);
    const none = capEff((await run({ bundle: SAMPLE_BUNDLE, capDrop: ['ALL'], cmd: sh('grep CapEff /proc/self/status') }, { root })).stdout);
    expect(none).toBe(0n);
  });

  it('config() edits the generated config last', async () => {
    const r = await run({ bundle: SAMPLE_BUNDLE, hostname: 'overridden', config: (s) => ({ ...s, hostname: 'from-config' }), cmd: ['hostname'] }, { root });
    expect(r.stdout).toBe('from-config\n');
  });

  it('rootfs: tsrun\'s default config over a directory', async () => {
    const r = await run({ rootfs: SAMPLE_ROOTFS, cmd: sh('echo $PATH; hostname') }, { root });
    expect(r.stdout).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\ntsrun\n');
    const missing = await run({ rootfs: `${scratch}/nope` }, { root }).catch((e: unknown) => e) as TsrunError;
    expect([missing.field, missing instanceof TsrunError]).toEqual(['rootfs', true]);
    const two = await run({ rootfs: SAMPLE_ROOTFS, bundle: SAMPLE_BUNDLE }, { root }).catch((e: unknown) => e) as TsrunError;
    expect(two.field).toBe('spec');
  });

  it('image: an OCI layout (entrypoint and cmd as docker combines them), with its upper layer gone after', async () => {
    const store = `${scratch}/store`;
    const r = await run({ image: SAMPLE, store, cmd: ['echo from the image; cat /etc/hostname'] }, { root });
    expect(r.stdout).toMatch(/^from the image\n/);
    const ep = await run({ image: SAMPLE, store, entrypoint: ['/bin/echo'], cmd: ['a', 'b'] }, { root });
    expect(ep.stdout).toBe('a b\n');
    const env = await run({ image: SAMPLE, store, env: { X: 'from the spec' }, hostname: 'img', cmd: ['echo $X; hostname'] }, { root });
    expect(env.stdout).toBe('from the spec\nimg\n');
    // The edited image config is validated as a config.json would be: the error names the field, nothing stays.
    const bad = await run({ image: SAMPLE, store, id: 'api-image-bad', cwd: 'relative' }, { root }).catch((e: unknown) => e) as TsrunError;
    expect([bad instanceof TsrunError, bad.field]).toEqual([true, 'process.cwd']);
    expect(leftovers(root, 'api-image-bad')).toEqual([]);
    expect(leftovers(root, r.id)).toEqual([]);
  });

  it('limits on this host: onUnsupported error refuses naming the field; warn and ignore run without them', async () => {
    let controllers: string[] = [];
    try { controllers = detectCgroupHost().controllers; } catch { /* none */ }
    if (controllers.includes('memory')) return; // a pure v2 host applies it (the VM lane's business)
    const err = await run({ bundle: SAMPLE_BUNDLE, id: 'api-limits', limits: { memory: '64m' }, cmd: ['true'] }, { root }).catch((e: unknown) => e) as TsrunError;
    expect(err).toBeInstanceOf(TsrunError);
    expect(err.field).toBe('limits.memory');
    expect(err.message).toContain('"memory" controller');
    expect(leftovers(root, 'api-limits')).toEqual([]);
    const warnings: string[] = [];
    const warned = await run({ bundle: SAMPLE_BUNDLE, limits: { memory: '64m', pids: 10, cpus: 0.5, onUnsupported: 'warn' }, cmd: ['true'] }, { root, warn: (m) => warnings.push(m) });
    expect(warned.exitCode).toBe(0);
    expect(warnings.map((w) => w.split(':')[0])).toEqual(['limits.memory', 'limits.pids', 'limits.cpus'].filter((f) => !controllers.includes({ 'limits.memory': 'memory', 'limits.pids': 'pids', 'limits.cpus': 'cpu' }[f]!)));
    const quiet: string[] = [];
    const ignored = await run({ bundle: SAMPLE_BUNDLE, limits: { memory: 64 * 2 ** 20, onUnsupported: 'ignore' }, cmd: ['true'] }, { root, warn: (m) => quiet.push(m) });
    expect([ignored.exitCode, quiet]).toEqual([0, []]);
  });
});

describe.skipIf(skipReason)('image: a registry reference', () => {
  let reg: RunningRegistry | undefined;
  beforeAll(async () => {
    reg = await startRegistry();
    await reg.push(`oci:${SAMPLE}:latest`, 'apibox:latest');
  }, 120_000);
  afterAll(async () => { await reg?.stop(); });

  it('is pulled into the store the first time, as run --image does, then run', async () => {
    const store = `${scratch}/pull-store`;
    const ref = `${reg!.host}/apibox:latest`;
    const r = await run({ image: ref, store, cmd: ['cat /etc/hostname >/dev/null; echo pulled'] }, { root });
    expect([r.stdout, r.exitCode]).toEqual(['pulled\n', 0]);
    const again = await run({ image: ref, store, cmd: ['echo again'] }, { root });
    expect(again.stdout).toBe('again\n');
  });
});
