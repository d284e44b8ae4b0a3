// Issue 13: an OCI archive made by skopeo (`oci-archive:`) is accepted, and an image imported as
// docker.io/library/myapp:1.0 runs as `--image myapp:1.0` (podman's and docker's short names).
// Real skopeo copies of the sample image (rootfs-samples/image.sh, `make samples`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, TSRUN, cannotRunContainers } from '../../helpers/bundle.js';

const LAYOUT = join(REPO, 'rootfs-samples/build/busybox-layers');
const LAUNCHER = join(REPO, 'bin/tsrun');
const hasSkopeo = (() => { try { execFileSync('skopeo', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
const skip = cannotRunContainers()
  ?? (existsSync(join(LAYOUT, 'index.json')) ? undefined : 'no sample image: run `make samples`')
  ?? (hasSkopeo ? undefined : 'skopeo is not installed (make deps)');
const STARTS: [string, string, string[]][] = [['node bin/tsrun.js', 'node', [TSRUN]], ['bin/tsrun', LAUNCHER, []]];

describe.skipIf(skip !== undefined)(`OCI archives and short image names${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let work: string;
  let root: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tsrun-it-oci-archive-'));
    root = join(work, 'state');
    execFileSync('skopeo', ['copy', '-q', `oci:${LAYOUT}:latest`, `oci-archive:${work}/app.oci.tar:myapp:1.0`]);
    execFileSync('skopeo', ['copy', '-q', `oci:${LAYOUT}:latest`, `docker-archive:${work}/app.docker.tar:docker.io/library/myapp:1.0`]);
  }, 60_000);
  afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

  const tsrun = (args: string[], how: [string, string[]] = ['node', [TSRUN]]) =>
    execa(how[0], [...how[1], ...args], { reject: false, stdin: 'ignore', cwd: REPO, timeout: 60_000 });

  it.each(STARTS)('%s runs skopeo\'s oci-archive directly (imported on the way), then by its name', async (_how, cmd, pre) => {
    const store = join(work, `store-oci-${cmd === 'node' ? 'node' : 'launcher'}`);
    const r = await tsrun(['--root', root, 'run', '--store', store, '--image', join(work, 'app.oci.tar'), '--', 'echo from-oci-archive; id -un'], [cmd, pre]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from-oci-archive\napp');
    expect(r.exitCode).toBe(0);
    const byName = await tsrun(['--root', root, 'run', '--store', store, '--image', 'myapp:1.0', '--', 'echo by-name'], [cmd, pre]);
    expect([byName.stderr, byName.stdout, byName.exitCode]).toEqual(['', 'by-name', 0]);
    expect(readdirSync(root)).toEqual([]);
  });

  it.each(STARTS)('%s: imported as docker.io/library/myapp:1.0, it runs as myapp:1.0 (silent), and --debug names the match', async (_how, cmd, pre) => {
    const store = join(work, `store-docker-${cmd === 'node' ? 'node' : 'launcher'}`);
    const imported = await tsrun(['image', 'import', '-q', '--store', store, join(work, 'app.docker.tar')]);
    expect(imported.stdout).toMatch(/\tdocker\.io\/library\/myapp:1\.0$/);
    const r = await tsrun(['--root', root, 'run', '--store', store, '--image', 'myapp:1.0', '--', 'echo short-name'], [cmd, pre]);
    expect([r.stderr, r.stdout, r.exitCode]).toEqual(['', 'short-name', 0]);
    const debug = await tsrun(['--debug', '--root', root, 'run', '--store', store, '--image', 'myapp:1.0', '--', 'true'], [cmd, pre]);
    expect(debug.stderr).toMatch(/^tsrun: debug: image myapp:1\.0 is docker\.io\/library\/myapp:1\.0 \(sha256:[0-9a-f]{12}…\)$/m);
    expect(debug.exitCode).toBe(0);
    const missing = await tsrun(['--root', root, 'run', '--store', store, '--image', 'myapp:2.0', '--', 'true'], [cmd, pre]);
    expect(missing.stderr).toMatch(/^tsrun: no image 'myapp:2\.0' \(docker\.io\/library\/myapp:2\.0\) in /);
    expect(missing.exitCode).toBe(125);
    expect(readdirSync(root)).toEqual([]);
  });

  it('image inspect by a short name says which name matched', async () => {
    const store = join(work, 'store-docker-node');
    const r = await tsrun(['image', 'inspect', '--store', store, 'myapp:1.0']);
    expect(r.exitCode).toBe(0);
    const rec = JSON.parse(r.stdout) as { names: string[]; matchedName?: string };
    expect(rec.matchedName).toBe('docker.io/library/myapp:1.0');
    expect(rec.names).toEqual(['docker.io/library/myapp:1.0']);
  });
});
