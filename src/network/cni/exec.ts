// Running one CNI plugin binary: the configuration on stdin, the arguments in CNI_* variables, the
// result (or a CNI error object) on stdout (spec 1.0, "Execution Protocol"). A plugin that runs
// longer than the timeout is killed; its own children (iptables…) get the same environment.
import { spawn } from 'node:child_process';
import { firstExecutable } from '../../host/executable.js';
import type { CniCommand, RuntimeConf } from './types.js';

export const DEFAULT_CNI_PATH = ['/usr/lib/cni', '/opt/cni/bin'];

/** CNI_PATH directories: $CNI_PATH when set (colon-separated), else Debian's and upstream's. */
export function cniPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = env.CNI_PATH?.split(':').filter(Boolean);
  return fromEnv && fromEnv.length > 0 ? fromEnv : DEFAULT_CNI_PATH;
}

/** The plugin binary `type` names: the first executable file of that name in CNI_PATH. */
export function findPlugin(type: string, dirs: readonly string[]): string | undefined {
  // A type is a file name, never a path: a config must not run /tmp/x or ../../bin/sh.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(type)) return undefined;
  return firstExecutable(type, dirs);
}

export interface PluginRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** The environment of a plugin: CNI_* and a PATH (plugins run iptables, ip6tables…), nothing else of tsrun's. */
export function pluginEnv(command: CniCommand, rt: RuntimeConf, dirs: readonly string[]): Record<string, string> {
  return {
    PATH: process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifname,
    CNI_ARGS: (rt.args ?? []).map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: dirs.join(':'),
  };
}

export function runPlugin(path: string, env: Record<string, string>, stdin: string, timeoutMs: number, onSpawn?: (pid: number) => void): Promise<PluginRun> {
  return new Promise((resolve) => {
    // A process group of its own: at the timeout the plugin and whatever it started (iptables, an
    // ipam plugin) are killed together, and nothing of theirs keeps the pipes open.
    const child = spawn(path, [], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => { /* a plugin that exits without reading its config: its exit says why */ });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, stdout: '', stderr: e.message, timedOut: false });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut });
    });
    if (child.pid !== undefined) onSpawn?.(child.pid);
    child.stdin.end(stdin);
  });
}
