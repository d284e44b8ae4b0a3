// A throwaway unprivileged user for the rootless tests: made with useradd (which gives it a
// /etc/subuid and /etc/subgid range), a home, an XDG runtime dir and a copy of the sample bundle it
// owns; tsrun then runs as that user through setpriv (real and effective ids, its own groups, a
// clean environment: nothing of root's carries over). userdel -r removes it all again.
import { execFileSync } from 'node:child_process';
import { closeSync, cpSync, openSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Spec } from '../../../src/oci/types.js';
import { REPO, SAMPLE_BUNDLE } from '../../helpers/bundle.js';

export const LAUNCHER = join(REPO, 'bin/tsrun');

export interface IdRange { start: number; count: number }

export interface RootlessUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** The user's $XDG_RUNTIME_DIR (0700, its own), given to every command unless env says otherwise. */
  runtimeDir: string;
  /** A 0755 directory the user owns, for its bundles. */
  work: string;
  subuid?: IdRange;
  subgid?: IdRange;
}

export interface UserRunResult { stdout: string; stderr: string; exitCode: number }

/** Why the rootless tests cannot run here, or undefined. */
export function cannotRunRootless(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (to make a user)';
  if (!existsSync(join(REPO, 'dist/tsrun.js')) || !existsSync(LAUNCHER)) return 'run make build';
  if (!existsSync(join(SAMPLE_BUNDLE, 'config.json'))) return 'run make samples';
  try { execFileSync('useradd', ['--help'], { stdio: 'ignore' }); } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return 'no useradd';
  }
  return undefined;
}

function rangeOf(file: string, name: string): IdRange | undefined {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, start, count] = line.split(':');
  return { start: Number(start), count: Number(count) };
}

export function createRootlessUser(opts: { subordinateIds?: boolean } = {}): RootlessUser {
  const name = `tsrl${process.pid % 100000}${Math.random().toString(36).slice(2, 5)}`;
  const args = ['-m', '-s', '/bin/sh'];
  if (opts.subordinateIds === false) args.push('-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0');
  execFileSync('useradd', [...args, name]);
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  const home = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).split(':')[5]!;
  const runtimeDir = mkdtempSync('/tmp/tsrun-rl-run-');
  chownSync(runtimeDir, uid, gid);
  const work = mkdtempSync('/tmp/tsrun-rl-work-');
  execFileSync('chmod', ['0755', work]);
  chownSync(work, uid, gid);
  const subuid = rangeOf('/etc/subuid', name);
  const subgid = rangeOf('/etc/subgid', name);
  return { name, uid, gid, home, runtimeDir, work, ...(subuid ? { subuid } : {}), ...(subgid ? { subgid } : {}) };
}

/** Kills whatever the user still runs, then removes it, its home, its ids and its dirs. */
export function removeRootlessUser(user: RootlessUser): void {
  try { execFileSync('pkill', ['-KILL', '-u', String(user.uid)], { stdio: 'ignore' }); } catch { /* none left */ }
  try { execFileSync('userdel', ['-r', '-f', user.name], { stdio: 'ignore' }); } catch { /* already gone */ }
  rmSync(user.runtimeDir, { recursive: true, force: true });
  rmSync(user.work, { recursive: true, force: true });
}

/** A cgroup delegated to a user, as systemd's Delegate=yes leaves one. */
export interface DelegatedCgroup {
  /** MOUNT/tsrun-rl-PID: the directory, its cgroup.procs, cgroup.subtree_control and cgroup.threads are the user's. */
  root: string;
  /** root/shell, likewise the user's: where tsrun is started (asUser's `cgroup`). */
  shell: string;
  /** Removes what tsrun made below root (root/tsrun, once empty), shell and root; after removeRootlessUser. */
  remove(): void;
}

/** Makes and chowns a delegated cgroup below the cgroup v2 mount `mount` (see DelegatedCgroup). */
export function delegateCgroup(user: RootlessUser, mount: string): DelegatedCgroup {
  const root = join(mount, `tsrun-rl-${process.pid}`);
  const shell = join(root, 'shell');
  mkdirSync(shell, { recursive: true });
  for (const dir of [root, shell]) {
    for (const f of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) chownSync(join(dir, f), user.uid, user.gid);
  }
  return {
    root,
    shell,
    remove() {
      // The user's processes are gone with it (removeRootlessUser); these cgroups are then empty.
      for (const dir of [join(root, 'tsrun'), shell, root]) {
        try { rmdirSync(dir); } catch { /* not made, or already removed */ }
      }
    },
  };
}

/** A copy of the sample bundle owned by the user, with the config `tsrun spec --rootless` writes, changed by mutate. */
export async function userBundle(user: RootlessUser, name: string, mutate?: (spec: Spec) => void): Promise<string> {
  const dir = join(user.work, name);
  mkdirSync(dir);
  cpSync(join(SAMPLE_BUNDLE, 'rootfs'), join(dir, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  execFileSync('chown', ['-R', '-h', `${user.uid}:${user.gid}`, dir]);
  const spec = await asUser(user, ['spec', '--rootless'], { cwd: dir });
  if (spec.exitCode !== 0) throw new Error(`spec --rootless: ${spec.stderr}`);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
  config.process!.terminal = false;
  mutate?.(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

/**
 * Runs bin/tsrun as the user (setpriv: real and effective uid and gid, its supplementary groups, a
 * reset environment) with XDG_RUNTIME_DIR set to its runtime dir unless env overrides it (a value of
 * '' leaves it unset).
 */
export async function asUser(user: RootlessUser, args: readonly string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; input?: string; detached?: boolean; cgroup?: string; prefix?: readonly string[] } = {}): Promise<UserRunResult> {
  const env = { XDG_RUNTIME_DIR: user.runtimeDir, ...opts.env };
  const assignments = Object.entries(env).filter(([, v]) => v !== '').map(([k, v]) => `${k}=${v}`);
  // A detached container (create, run -d) keeps tsrun's stdout and stderr: files, not pipes, or the
  // result would wait for the container's end.
  const out = join(user.work, `.out-${process.pid}-${++calls}`);
  // (Raw fds: execa's { file } option pipes through a stream that the container would keep open.)
  const fds = opts.detached ? [openSync(`${out}.1`, 'w'), openSync(`${out}.2`, 'w')] : [];
  const stdio = (opts.detached ? { stdout: fds[0]!, stderr: fds[1]! } : {}) as Record<string, never>;
  // prefix: what enters the test's namespaces first (nsenter, as root), see user-netns.ts.
  const command = [...(opts.prefix ?? []), 'setpriv',
    `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--reset-env',
    'env', ...assignments, LAUNCHER, ...args,
  ];
  // In a cgroup (a delegated one): the shell moves itself there as root, then becomes the user.
  const [file, argv] = opts.cgroup
    ? ['sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', opts.cgroup, ...command]]
    : [command[0]!, command.slice(1)];
  const r = await execa(file, argv, { cwd: opts.cwd ?? user.work, reject: false, timeout: opts.timeoutMs ?? 20_000, input: opts.input ?? '', stripFinalNewline: false, ...stdio });
  for (const fd of fds) closeSync(fd);
  if (opts.detached) {
    const text = (n: number): string => { const f = `${out}.${n}`; const t = readFileSync(f, 'utf8'); rmSync(f); return t; };
    return { stdout: text(1), stderr: text(2), exitCode: r.exitCode ?? -1 };
  }
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}
let calls = 0;

/** Processes of the user still alive (pgrep -u). */
export function userProcesses(user: RootlessUser): string[] {
  try {
    return execFileSync('pgrep', ['-a', '-u', String(user.uid)], { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}
