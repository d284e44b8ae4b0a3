// Shared by the VM lane's systemd tests (test/vm/*systemd*.test.ts): they run only in a guest booted
// with systemd as PID 1 (`vm/run.sh --systemd`, `make test-vm-systemd`), and skip elsewhere saying so.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const TSRUN = resolve('bin/tsrun');
export const SAMPLE = resolve('rootfs-samples/build/busybox');
export const V2 = '/sys/fs/cgroup';

export function systemdSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  const booted = (() => { try { return statSync('/run/systemd/system').isDirectory(); } catch { return false; } })();
  if (!booted) return 'systemd is not PID 1 here: run `make test-vm-systemd` (vm/run.sh --systemd)';
  if (!existsSync(join(V2, 'cgroup.controllers')) || !readFileSync(join(V2, 'cgroup.controllers'), 'utf8').includes('memory')) return 'no pure cgroup v2 at /sys/fs/cgroup';
  if (!existsSync(join(SAMPLE, 'config.json'))) return 'no sample bundle (make samples)';
  return null;
}

export interface Result { status: number | null; stdout: string; stderr: string }

/** Runs a command to its end; `out`: a file for stdout and stderr instead of pipes (detached containers keep them). */
export function run(cmd: string, args: string[], opts: { input?: string; out?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): Result {
  const fd = opts.out ? openSync(opts.out, 'a') : undefined;
  try {
    const r = spawnSync(cmd, args, {
      encoding: 'utf8', timeout: opts.timeout ?? 150_000, env: opts.env ?? process.env,
      stdio: fd === undefined ? ['pipe', 'pipe', 'pipe'] : ['ignore', fd, fd], input: opts.input ?? '',
    });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `tsrun --root ROOT args…` */
export const tsrun = (root: string, args: string[], opts: Parameters<typeof run>[2] = {}): Result => run(TSRUN, ['--root', root, ...args], opts);

/** A tsrun running in the background, for killing it half-way. */
export function tsrunBackground(root: string, args: string[]): ChildProcess {
  return spawn(TSRUN, ['--root', root, ...args], { stdio: 'ignore' });
}

/** `systemctl show UNIT -p …` as a record ({LoadState: 'not-found'} once systemd forgot the unit). */
export function unitProperties(unit: string, ...props: string[]): Record<string, string> {
  const r = run('systemctl', ['show', unit, ...props.flatMap((p) => ['-p', p])]);
  return Object.fromEntries(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** A bundle on the read-only sample rootfs, with `args` and `edit` applied to the config. */
export function bundle(dir: string, name: string, args: string[], edit: (c: Record<string, any>) => void = () => {}): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  const config = JSON.parse(readFileSync(join(SAMPLE, 'config.json'), 'utf8'));
  config.root = { path: join(SAMPLE, 'rootfs'), readonly: true };
  config.process.args = args;
  config.process.terminal = false;
  edit(config);
  writeFileSync(join(path, 'config.json'), JSON.stringify(config));
  return path;
}

/** Host processes whose command line contains `marker` (a container's, or a hook's). */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker)) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

export async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
