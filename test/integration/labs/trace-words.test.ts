// What `run --trace` says to a learner (issue 19): an optional step that was skipped says why it was
// optional; each namespace links its own man page (pid_namespaces(7)…); the spawn names the syscall the
// code used (clone3 or clone) and how the process entered its cgroup. Read through --log-format json,
// whose lines carry the same title, why and man page as the text.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, makeBundle, runTsrun, type BundleOptions } from '../../helpers/bundle.js';

const skip = cannotRunContainers();

interface TraceLine { level: string; who: string; step?: number; title: string; why?: string; result: string; syscall?: string; man?: string; group?: string }

async function traceOf(mutate?: BundleOptions['mutate'], env: Record<string, string> = {}): Promise<TraceLine[]> {
  const b = makeBundle({ mutate: (s, x) => { s.process!.args = ['true']; mutate?.(s, x); } });
  const r = await runTsrun(['--log-format', 'json', 'run', '--trace', '--bundle', b.dir, `trace-${process.pid}-${Math.random().toString(36).slice(2, 7)}`], { env });
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as TraceLine).filter((l) => l.level === 'trace');
}

describe.skipIf(skip !== undefined)(`--trace words${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  it('a skipped optional step says it was optional, why, and which field lists such paths', async () => {
    const lines = await traceOf((s) => { s.linux!.maskedPaths = ['/proc/no-such-file-for-the-trace']; });
    const skipped = lines.find((l) => l.result === 'skipped (ENOENT)' && l.title === 'mask /proc/no-such-file-for-the-trace');
    expect(skipped?.why).toBe('optional: /proc/no-such-file-for-the-trace does not exist in this container (this kernel or image has no such file), so there is nothing to hide; linux.maskedPaths names paths to hide where they exist');
  });
});
