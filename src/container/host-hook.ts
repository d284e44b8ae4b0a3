// A hook of the runtime namespace (prestart, createRuntime, poststart, poststop): an ordinary child
// of tsrun with the state JSON on stdin. Its own module so that node:child_process (and the net and
// dgram modules it pulls in, ~1 ms) is loaded only by a container that has such hooks.
import { spawn } from 'node:child_process';
import type { Hook, State } from '../oci/types.js';
import { hookError, type HookPhase } from './hook-error.js';

const envObject = (env: string[] = []): Record<string, string> =>
  Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

export function runHostHook(phase: HookPhase, i: number, hook: Hook, state: State): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(hook.path, (hook.args ?? [hook.path]).slice(1), {
      argv0: hook.args?.[0] ?? hook.path, env: envObject(hook.env), stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const timer = hook.timeout ? setTimeout(() => { child.kill('SIGKILL'); reject(hookError(phase, i, hook, `timed out after ${hook.timeout} s`, output)); }, hook.timeout * 1000) : undefined;
    child.on('error', (err) => { clearTimeout(timer); reject(hookError(phase, i, hook, `could not start: ${(err as NodeJS.ErrnoException).code ?? err.message}`)); });
    // 'exit', not 'close': a hook may leave a background child holding its stdout open.
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(hookError(phase, i, hook, signal ? `was killed by ${signal}` : `exited with status ${code}`, output));
    });
    child.stdin.on('error', () => { /* a hook need not read its stdin */ });
    child.stdin.end(JSON.stringify(state));
  });
}
