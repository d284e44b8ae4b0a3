// A cgroup2 mount hidden under another mount is not the one tsrun uses (issue 13: with cgroup2
// bind-mounted over /sys/fs/cgroup in a private mount namespace, tsrun chose the hidden
// /sys/fs/cgroup/unified and said no cgroup v2 hierarchy was mounted). Every mount here is made in a
// private mount namespace (`unshare -m --propagation private`) that ends with its shell: the host's
// own table is never touched.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO, TSRUN, cannotRunContainers, containerTestHooks, makeBundle, sh } from '../../helpers/bundle.js';
import { cgroup2Mount, cleanupLifecycle, makeRoot, removeDefaultCgroups, rootEntries, uniqueId } from '../../helpers/lifecycle.js';

const V2 = cgroup2Mount();
const skip = cannotRunContainers() ?? (V2 === undefined ? 'no cgroup v2 hierarchy mounted' : undefined);

/** `sh -c script` in a new private mount namespace; the script's mounts go with it. */
function inPrivateMountNs(script: string, args: string[]): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  return execa('unshare', ['-m', '--propagation', 'private', 'sh', '-euc', script, 'sh', ...args], { reject: false, stdin: 'ignore', cwd: REPO, timeout: 30_000 })
    .then((r) => ({ exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) }));
}

describe.skipIf(skip !== undefined)(`the visible cgroup2 mount${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

  /** Runs a container that prints its v2 cgroup, after `mounts` (sh, $1 = the host's cgroup2 mount, $2 = a temp dir). */
  async function runAfter(mounts: string): Promise<{ id: string; result: { exitCode: number | undefined; stdout: string; stderr: string } }> {
    const tmp = mkdtempSync(join(tmpdir(), 'tsrun-it-hidden-cg-'));
    dirs.push(tmp);
    const root = makeRoot();
    const id = uniqueId('hidden-cg');
    const bundle = makeBundle({ dropResources: false, mutate: (s, b) => { s.process!.args = sh('grep "^0::" /proc/self/cgroup', b.marker); } });
    const script = `${mounts}\nexec node "$3" --root "$4" run --bundle "$5" "$6"`;
    const result = await inPrivateMountNs(script, [V2!, tmp, TSRUN, root, bundle.dir, id]);
    await removeDefaultCgroups([id]);
    expect(rootEntries(root)).toEqual([]);
    return { id, result };
  }

  it('cgroup2 bound over /sys/fs/cgroup: the container gets its cgroup there', async () => {
    const { id, result } = await runAfter('mount --bind "$1" /sys/fs/cgroup');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`0::/tsrun/${id}`);
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(V2!, 'tsrun', id))).toBe(false);
  });

  it('the system\'s cgroup2 mount covered by a tmpfs after a bind of it elsewhere: the bind is used', async () => {
    const { id, result } = await runAfter('mkdir "$2/cg"; mount --bind "$1" "$2/cg"; mount -t tmpfs none "$1"');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`0::/tsrun/${id}`);
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(V2!, 'tsrun', id))).toBe(false);
  });
});
