// A new network namespace's `lo` is up before the container's program starts (tsrun-init's
// loopbackUp step), as runc and crun have it; a joined namespace and the host's are left alone.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, makeBundle, poll, runBundle, sh } from '../../helpers/bundle.js';

const skip = cannotRunContainers();
// What the container sees of its loopback: IFF_* flags (0x9 = UP|LOOPBACK) and whether it answers on 127.0.0.1.
const PROBE = 'cat /sys/class/net/lo/flags; ip -o link show lo | grep -o "<[^>]*>"; (nc -l -p 7777 -e echo pong &) ; sleep 0.2; echo ping | nc -w 1 127.0.0.1 7777 || echo unreachable';

function hasRunc(): boolean {
  try { execFileSync('runc', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

describe.skipIf(skip !== undefined)(`loopback of a new network namespace${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  it('is up before the process starts, and 127.0.0.1 answers', async () => {
    const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh(PROBE, b.marker); } });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['0x9', '<LOOPBACK,UP,LOWER_UP>', 'pong']);
  });

  it('is what runc gives the same bundle', async () => {
    if (!hasRunc()) return void expect.soft(hasRunc(), 'runc is not installed (make deps installs it)').toBe(true);
    const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh('cat /sys/class/net/lo/flags; ip -o link show lo | grep -o "<[^>]*>"', b.marker); } });
    const ours = await runBundle(bundle);
    // runc with an absolute cgroupsPath (without one it nests under the caller's cgroups here).
    bundle.rewrite((s) => { s.linux!.cgroupsPath = `/tsrun-test-runc-${process.pid}`; });
    const root = mkdtempSync(join(tmpdir(), 'runc-root-'));
    try {
      const theirs = execFileSync('runc', ['--root', root, 'run', '--bundle', bundle.dir, `lo-${process.pid}`], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      expect(ours.stdout).toBe(theirs);
      expect(theirs.split('\n')[0]).toBe('0x9');
    } finally {
      try { execFileSync('runc', ['--root', root, 'delete', '--force', `lo-${process.pid}`], { stdio: 'ignore' }); } catch { /* gone with its process */ }
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('explain shows the step, naming the namespace field', async () => {
    const bundle = makeBundle();
    const { runTsrun } = await import('../../helpers/bundle.js');
    const r = await runTsrun(['explain', bundle.dir]);
    expect(r.stdout).toMatch(/ioctl SIOCSIFFLAGS lo IFF_UP/);
  });

  it('a joined network namespace is not touched (lo stays as its owner left it)', async () => {
    // A namespace held by a sleeping process of our own; its lo is down and must stay down.
    const holder = spawn('unshare', ['--net', 'sleep', '30'], { stdio: 'ignore' });
    try {
      const pid = holder.pid!;
      // unshare execs sleep once the namespace is made: wait until /proc says so.
      await poll(() => (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep') ? true : undefined), 15_000, 'unshare to exec sleep');
      const bundle = makeBundle({
        mutate: (s, b) => {
          s.process!.args = sh('cat /sys/class/net/lo/flags 2>/dev/null; ip -o link show lo | grep -o "<[^>]*>"', b.marker);
          s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/proc/${pid}/ns/net` } : n));
        },
      });
      const r = await runBundle(bundle);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('<LOOPBACK>');
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
