// Shared by the security tests: throwaway namespaces that play "the caller" (so an attack that works
// on old code lands in them, never in the host's), tsrun run inside them, and what a namespace's
// mount table holds. A holder is `sleep` started under `unshare`; killing it ends the namespace.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TSRUN, poll, waitForBuild } from '../../helpers/bundle.js';

const holders: number[] = [];

/**
 * Starts `sh -c SCRIPT; exec sleep 300` under `unshare FLAGS…` and waits for the sleep; returns its
 * pid. SCRIPT runs in the new namespaces first (e.g. to mount something there).
 */
export async function holdNamespaces(unshareFlags: readonly string[], script = '', args: readonly string[] = []): Promise<number> {
  const child = spawn('unshare', [...unshareFlags, 'sh', '-c', `${script}\nexec sleep 300`, 'sh', ...args], { stdio: 'ignore' });
  const pid = child.pid!;
  holders.push(pid);
  await poll(() => {
    try { return readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n' ? true : undefined; } catch { return undefined; }
  }, 5_000, `namespace holder ${pid}`);
  return pid;
}

/** A private mount namespace (a copy of the host's, nothing propagating either way). */
export const privateMountNamespace = (script = '', args: readonly string[] = []): Promise<number> =>
  holdNamespaces(['-m', '--propagation', 'private'], script, args);

/** Kills every holder (their namespaces end with their last process). Call from afterEach. */
export function killHolders(): void {
  for (const pid of holders.splice(0)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

export interface Result { exitCode: number | null; stdout: string; stderr: string }

/**
 * `tsrun --root ROOT …args` inside the namespaces of `pid` (`nsenter` flags such as ['-m'] or
 * ['-n']), stdio in files under outDir (a created container keeps them open).
 */
export async function tsrunIn(pid: number, nsFlags: readonly string[], root: string, args: readonly string[], outDir: string): Promise<Result> {
  await waitForBuild();
  const name = `${args[0]}-${Math.random().toString(36).slice(2, 8)}`;
  const [outFile, errFile] = [join(outDir, `${name}.out`), join(outDir, `${name}.err`)];
  const [out, err] = [openSync(outFile, 'w'), openSync(errFile, 'w')];
  const child = spawn('nsenter', ['-t', String(pid), ...nsFlags, '--', 'node', TSRUN, '--root', root, ...args], { cwd: REPO, stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { exitCode, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
}

/** Runs a command inside the namespaces of `pid`; resolves with its exit code and output. */
export async function runIn(pid: number, nsFlags: readonly string[], argv: readonly string[]): Promise<Result> {
  const child = spawn('nsenter', ['-t', String(pid), ...nsFlags, '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { exitCode, stdout, stderr };
}

/** Mount points at or under `path` in the mount namespace of `pid`. */
export function mountsUnder(pid: number, path: string): string[] {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[4]!)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === path || p.startsWith(`${path}/`));
}

/** The non-empty lines of a command's stderr. */
export const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '');
