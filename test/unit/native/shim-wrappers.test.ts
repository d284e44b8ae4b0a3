// The wrappers of native/shim.ts turn the library's return codes into values and one-line errors:
// tested with bindings that answer the codes a kernel would (the fake shim, patched).
import { constants } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { configureSpawn, spawnSettings } from '../../../src/native/spawn-settings.js';
import * as shim from '../../../src/native/shim.js';
import { TsrunError } from '../../../src/errors.js';
import { installFakeShim, type FakeShim } from '../../helpers/fake-shim.js';
import type { KoffiFunction, ShimFunctions } from '../../../src/native/shim.js';

const E = constants.errno;
let fake: FakeShim | undefined;
afterEach(() => { fake?.uninstall(); fake = undefined; });

const install = (patch: Partial<ShimFunctions>): FakeShim => (fake = installFakeShim(undefined, patch));

/** An async binding whose worker answers `rc`. */
function answers(rc: number, sync = rc): KoffiFunction {
  return Object.assign(() => sync, { async: (...a: unknown[]) => { const done = a.at(-1) as (e: unknown, rc: number) => void; setImmediate(() => done(null, rc)); }, info: undefined as unknown as KoffiFunction['info'] });
}

const error = (fn: () => unknown): TsrunError => {
  try { fn(); } catch (e) { return e as TsrunError; }
  throw new Error('no error');
};

describe('native/shim wrappers', () => {
  it('substitute refuses a second stand-in while one is loaded, and its restore unloads it', () => {
    const f = install({});
    expect(shim.isLoaded()).toBe(true);
    expect(() => shim.substitute({} as ShimFunctions)).toThrow(/already loaded/);
    f.uninstall();
    fake = undefined;
    expect(shim.isLoaded()).toBe(false);
  });

  it('spawn: a failed syscall names it, its errno and the plan step', () => {
    install({ spawn: (_p, _l, _c, _i, _f, out) => { Object.assign(out, { what: 'setns', step: 3 }); return -E.EPERM; } });
    const err = error(() => shim.spawn(Buffer.alloc(0)));
    expect(err).toBeInstanceOf(TsrunError);
    expect(err.message).toBe('setns (plan step 3): EPERM');
    expect(err.details).toMatchObject({ syscall: 'setns', errno: 'EPERM' });
  });

  it('spawn: a tsrun-init that cannot be found says how to build it', () => {
    const restore = configureSpawn({ ...spawnSettings(), initProgram: '/nonexistent/tsrun-init' });
    try {
      install({ spawn: (_p, _l, _c, _i, _f, out) => { Object.assign(out, { what: 'tsrun-init', step: -1 }); return -E.ENOENT; } });
      expect(error(() => shim.spawn(Buffer.alloc(0))).message).toBe('tsrun-init /nonexistent/tsrun-init: ENOENT: run `make build` (it compiles native-bindings/shim.c)');
    } finally {
      restore();
    }
  });

  it('reports: a timeout is "timeout", EOF undefined, an error a TsrunError', async () => {
    install({ recvReportWithin: () => -E.ETIMEDOUT });
    expect(shim.recvReportWithin(5, 1)).toBe('timeout');
    fake!.uninstall();
    install({ recvReportWithin: () => 0, recvReport: answers(-E.ECONNRESET) });
    expect(shim.recvReportWithin(5, 1)).toBeUndefined();
    await expect(shim.recvReport(5)).rejects.toThrow("reading the container's sync socket: ECONNRESET");
  });

  it('sendByte and mkfifo name what failed', () => {
    install({ sendByte: () => -E.EPIPE, mkfifo: () => -E.EEXIST });
    expect(error(() => shim.sendByte(5)).message).toBe('send(sync socket): EPIPE');
    expect(error(() => shim.mkfifo('/run/x/exec.fifo', 0o600)).message).toBe('mkfifo /run/x/exec.fifo: EEXIST');
  });

  it('waitPid rejects with the pid and errno; waitPidNohang tells running from reaped', async () => {
    install({ wait: answers(-E.ECHILD), waitNohang: (pid, status) => { status[0] = 9; return pid === 1 ? 0 : pid; } });
    await expect(shim.waitPid(42)).rejects.toThrow('waitpid(42): ECHILD');
    expect(shim.waitPidNohang(1)).toBeUndefined();
    expect(shim.waitPidNohang(2)).toBe(9);
  });

  it('pidfdOpen: a process that is gone is undefined, another error throws', () => {
    install({ pidfdOpen: (pid) => (pid === 1 ? -E.ESRCH : -E.EMFILE) });
    expect(shim.pidfdOpen(1)).toBeUndefined();
    expect(() => shim.pidfdOpen(2)).toThrow('pidfd_open(2): EMFILE');
  });

  it('flockExclusive: free at once, busy (waits on the worker), or an error', async () => {
    const f = install({});
    await shim.flockExclusive(0);
    f.flockBusy = 1;
    await shim.flockExclusive(0);
    f.uninstall();
    install({ flock: answers(-E.EBADF) as ShimFunctions['flock'] });
    await expect(shim.flockExclusive(0)).rejects.toThrow('flock: EBADF');
    fake!.uninstall();
    install({ flock: answers(-E.EINTR, -E.EWOULDBLOCK) as ShimFunctions['flock'] });
    await expect(shim.flockExclusive(0)).rejects.toThrow('flock: EINTR');
  });

  it('umountMount: unmounted, gone, something else there, or an error', () => {
    const rc: Record<string, number> = { '/a': 0, '/b': -E.ENOENT, '/c': -E.ESTALE, '/d': -E.ELOOP, '/e': -E.EPERM };
    install({ umountMount: (path) => rc[path]! });
    expect(['/a', '/b', '/c', '/d'].map((p) => shim.umountMount(p, 7))).toEqual(['unmounted', 'gone', 'other', 'other']);
    expect(() => shim.umountMount('/e', 7)).toThrow('umount2 /e (mount 7): EPERM');
  });
});
