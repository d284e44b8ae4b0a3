// Issue 13: bin/tsrun on a CPU that is not the one its startup snapshot was built on. The repo's dist/
// was built on the host; the guest runs the same node on qemu's CPU, whose features V8 sees differently.
// The VM lane runs this file twice (mk/vm.mk): with the rest of test/vm under `-cpu max`, and alone
// under VM_REDUCED_CPU (Nehalem: no AVX, BMI or LZCNT), where node refuses the host's snapshot.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const LAUNCHER = resolve('bin/tsrun');
const BLOB = resolve('dist/tsrun.blob');
const KEY = resolve('dist/tsrun.blob.key');
const KEY_TOOL = resolve('native-bindings/build/tsrun-snapshot-key');
const CPU = process.env.TSRUN_VM_CPU;
/** The V8 configuration tag on the host, where the snapshot was built (mk/vm.mk passes it). */
const HOST_TAG = process.env.TSRUN_HOST_V8_TAG;

function skipReason(): string | null {
  if (process.env.TSRUN_VM !== '1' || !CPU) return 'runs in the VM lane (make test-vm)';
  for (const f of [LAUNCHER, BLOB, KEY, KEY_TOOL]) if (!existsSync(f)) return `${f} is missing (make build)`;
  return null;
}
const reason = skipReason();

interface Result { status: number | null; stdout: string; stderr: string }
const run = (file: string, args: string[]): Result => {
  // An empty NODE_OPTIONS: with one, the launcher would run the plain bundle for that reason instead.
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};
/** What the launcher said it started (--debug): the snapshot, or the plain bundle and why. */
const decision = (stderr: string): { path?: string; reason?: string } => {
  const m = /^tsrun: debug: launcher: (\/\S*?)(?:: (.*))?$/m.exec(stderr);
  return m ? { path: m[1], reason: m[2] } : {};
};
const cpuLine = (key: string): string => /^cpu .*$/m.exec(key)?.[0] ?? '';
const OTHER = 'the snapshot was built for another node or CPU';

describe.skipIf(reason !== null)(`bin/tsrun under qemu -cpu ${CPU ?? '?'} with the host's snapshot${reason ? ` — skipped: ${reason}` : ''}`, () => {
  const dir = reason ? '' : mkdtempSync(join(tmpdir(), 'tsrun-vm-launcher-'));
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('starts, on the plain bundle', () => {
    const r = run(LAUNCHER, ['--debug', '--version']);
    expect(decision(r.stderr)).toEqual({ path: resolve('dist/tsrun.js'), reason: OTHER });
    expect(r.stdout).toMatch(/^tsrun version /);
    expect(r.status).toBe(0);
  });

  it("the CPU words alone keep it off the snapshot: a key for the guest's node with the host's CPU does not fit", () => {
    // A package of its own: the same launcher and bundles, a copy of the host-built blob.
    const root = join(dir, 'pkg');
    mkdirSync(join(root, 'bin'), { recursive: true });
    mkdirSync(join(root, 'dist'));
    copyFileSync(LAUNCHER, join(root, 'bin/tsrun'));
    symlinkSync(resolve('dist/tsrun.js'), join(root, 'dist/tsrun.js'));
    symlinkSync(resolve('dist/snapshot'), join(root, 'dist/snapshot'));
    const blob = join(root, 'dist/tsrun.blob');
    copyFileSync(BLOB, blob);
    const node = spawnSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).stdout.trim();
    const guestKey = spawnSync(KEY_TOOL, [node, blob], { encoding: 'utf8' }).stdout;
    const hostKey = readFileSync(KEY, 'utf8');
    expect(cpuLine(guestKey)).toMatch(/^cpu x86-64 /);
    expect(cpuLine(guestKey)).not.toBe(cpuLine(hostKey));
    writeFileSync(join(root, 'dist/tsrun.blob.key'), guestKey.replace(cpuLine(guestKey), cpuLine(hostKey)));
    const r = run(join(root, 'bin/tsrun'), ['--debug', '--version']);
    expect(decision(r.stderr)).toEqual({ path: join(root, 'dist/tsrun.js'), reason: OTHER });
    expect(r.stdout).toMatch(/^tsrun version /);
    expect(r.status).toBe(0);
    // With the guest's own CPU words the key fits, and the launcher hands node the blob.
    writeFileSync(join(root, 'dist/tsrun.blob.key'), guestKey);
    expect(decision(run(join(root, 'bin/tsrun'), ['--debug', '--version']).stderr)).toEqual({ path: blob, reason: undefined });
  });

  // What the launcher spares its users: node given the host's snapshot directly. Under a model with
  // fewer features than the host's V8 computes another tag and refuses (exit 14, before any JS).
  it.skipIf(HOST_TAG === undefined)("node alone refuses the host's snapshot exactly when this CPU changes V8's tag", () => {
    const tag = run('node', ['-p', 'require("v8").cachedDataVersionTag()']).stdout.trim();
    if (CPU !== 'max') expect(tag, `-cpu ${CPU} must have fewer V8 features than the host (VM_REDUCED_CPU)`).not.toBe(HOST_TAG);
    const r = run('node', ['--snapshot-blob', BLOB, '--', '--version']);
    if (tag === HOST_TAG) {
      expect(r.stdout).toMatch(/^tsrun version /);
    } else {
      expect(r.stderr).toMatch(/Failed to load the startup snapshot because it was built with a different version of V8 or with different V8 configurations/);
      expect(r.status).toBe(14);
    }
  });
});
