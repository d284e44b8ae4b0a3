// A private containerd for tests: its config is docs/kubernetes.md's block (so the doc is what is
// tested) with root, state, sockets and the runc shim's state under a temp dir; started and stopped by
// pid, and what it leaves checked. Used on the host (cgroupfs) and in the VM lane (systemd as PID 1).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const TSRUN_BIN = join(REPO_ROOT, 'bin/tsrun');
export const ARCHIVE = join(REPO_ROOT, 'rootfs-samples/build/busybox-layers.docker.tar');
export const IMAGE = 'docker.io/library/busybox-layers:latest';
/** Where containerd 1.6 puts shim sockets and ctr its fifos whatever the config says. */
const SHARED_RUN = '/run/containerd';

export function containerdMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const bin of ['containerd', 'ctr', 'containerd-shim-runc-v2']) {
    try { execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }); } catch { return `${bin} is not installed (Debian package: containerd; make deps)`; }
  }
  if (!existsSync(join(REPO_ROOT, 'dist/tsrun.js'))) return 'tsrun is not built (make build)';
  if (!existsSync(ARCHIVE)) return 'no sample image archive (make samples)';
  return undefined;
}

/** The ```toml block after the "tested" marker in docs/kubernetes.md. */
export function documentedConfig(): string {
  const doc = readFileSync(join(REPO_ROOT, 'docs/kubernetes.md'), 'utf8');
  const m = /<!-- tested: [^>]*-->\n```toml\n([\s\S]*?)```/.exec(doc);
  if (!m) throw new Error('docs/kubernetes.md has no tested ```toml block');
  return m[1]!;
}

export interface Ctr { exitCode: number | undefined; stdout: string; stderr: string }

export interface Containerd {
  dir: string;
  /** The runc shim's state root (`--runc-root`): tsrun's --root for these containers. */
  runcRoot: string;
  log(): string;
  ctr(args: string[], opts?: { timeout?: number; input?: string }): Promise<Ctr>;
  /** Removes every container and task, stops containerd by pid, kills shims of this instance, removes the dir. */
  stop(): Promise<void>;
  /** Shim processes of this instance still alive. */
  shims(): number[];
}

export async function startContainerd(opts: { systemdCgroup: boolean; namespace: string }): Promise<Containerd> {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-it-containerd-'));
  const runcRoot = join(dir, 'runc');
  mkdirSync(join(dir, 'fifo'));
  const sharedBefore = existsSync(SHARED_RUN) ? readdirSync(SHARED_RUN) : undefined;
  const config = [
    `root = "${dir}/root"`, `state = "${dir}/state"`,
    documentedConfig()
      .replace('BinaryName = "/usr/local/bin/tsrun"', `BinaryName = "${TSRUN_BIN}"`)
      .replace(/SystemdCgroup = true/g, `SystemdCgroup = ${opts.systemdCgroup}`),
    `[grpc]\n  address = "${dir}/containerd.sock"`, `[ttrpc]\n  address = "${dir}/containerd.sock.ttrpc"`,
  ].join('\n');
  // "version = 2" must come first in containerd's file.
  writeFileSync(join(dir, 'config.toml'), `version = 2\n${config.replace(/^version = 2\n/m, '')}`);
  const daemon: ChildProcess = spawn('containerd', ['--config', join(dir, 'config.toml'), '--log-level', 'info'], {
    stdio: ['ignore', 'ignore', 'pipe'], detached: false,
  });
  const logs: string[] = [];
  daemon.stderr!.on('data', (c: Buffer) => logs.push(c.toString()));
  const address = join(dir, 'containerd.sock');
  const ctr = async (args: string[], o: { timeout?: number; input?: string } = {}): Promise<Ctr> => {
    const r = await execa('ctr', ['--address', address, '--namespace', opts.namespace, ...args], {
      reject: false, timeout: o.timeout ?? 120_000, killSignal: 'SIGKILL', ...(o.input !== undefined ? { input: o.input } : { stdin: 'ignore' as const }),
    });
    return { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  };
  const end = Date.now() + 120_000;
  while (!(await ctr(['version'], { timeout: 30_000 })).stdout.includes('Server:')) {
    if (daemon.exitCode !== null || Date.now() > end) {
      daemon.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`containerd did not start: ${logs.join('').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const shims = (): number[] => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(address); } catch { return false; }
  }).filter((pid) => pid !== daemon.pid);
  return {
    dir, runcRoot, ctr, shims,
    log: () => logs.join(''),
    async stop() {
      for (const id of (await ctr(['containers', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) {
        await ctr(['task', 'kill', '-s', 'SIGKILL', id]);
        await ctr(['task', 'delete', '-f', id]);
        await ctr(['containers', 'delete', id]);
      }
      for (const img of (await ctr(['images', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await ctr(['images', 'rm', img]);
      daemon.kill('SIGTERM');
      if (daemon.exitCode === null) await new Promise((r) => { const t = setTimeout(() => { daemon.kill('SIGKILL'); r(null); }, 15_000); daemon.once('exit', () => { clearTimeout(t); r(null); }); });
      for (const pid of shims()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      rmSync(dir, { recursive: true, force: true });
      // containerd made /run/containerd/{s,fifo,runc} if nobody had: remove what is empty and new.
      if (sharedBefore === undefined) rmEmptyTree(SHARED_RUN);
    },
  };
}

function rmEmptyTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmEmptyTree(join(dir, e.name));
  try { rmdirSync(dir); } catch { /* not empty: someone else's */ }
}
