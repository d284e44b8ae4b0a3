// CVE-2019-5736 class: no process tsrun places in a container may, at any moment, have a writable host
// file behind /proc/self/exe. A container process that catches such a process's /proc/<pid>/exe
// (O_PATH) and reopens it for writing once it stopped running (through /proc/self/fd/N) would
// rewrite the host's binary: tsrun-init, or the node that runs tsrun.
//
// The attacker is test/integration/security/exe-catcher.c, built here and copied into the container.
// Nothing here points it at a real host binary: tsrun runs from copies (TSRUN_INIT=<copy of
// tsrun-init>, and `tsrun exec` started by a copy of node), and the tests assert on those copies.
import { execFileSync, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configureSpawn } from '../../../src/native/spawn-settings.js';
import { spawnSettingsFrom } from '../../../src/cli/environment.js';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, makeBundle, poll, REPO, runBundle, TSRUN, type TestBundle } from '../../helpers/bundle.js';
import { cleanupLifecycle, makeRoot, mustCreate, runDetachedIn, stateOf, tsrun, tsrunToFiles, uniqueId, waitForFile } from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
/** The build under test (TSRUN_CLI may point at another one). */
const CLI_ROOT = resolve(dirname(TSRUN), '..');
const INIT = join(CLI_ROOT, 'native-bindings/build/tsrun-init');
/** tsrun-init's notice when it is started other than by tsrun (here: as the interpreter of /evil). */
const INIT_NOTICE = /started by tsrun/;
const EVIL = '#!/proc/self/exe\n';

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Adds a capability to every set of the container's process (not ambient). */
function addCap(spec: Spec, cap: string): void {
  const caps = spec.process!.capabilities!;
  for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), cap];
}

const withoutNamespace = (spec: Spec, type: string): void => {
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== type);
};

interface CatchLog { caught: { index: number; pid: number; link: string }[]; results: Map<number, string>; text: string }

function parseLog(text: string): CatchLog {
  const caught = [...text.matchAll(/^caught (\d+) (\d+) (.*)$/gm)].map((m) => ({ index: Number(m[1]), pid: Number(m[2]), link: m[3]! }));
  const results = new Map([...text.matchAll(/^result (\d+) (.*)$/gm)].map((m) => [Number(m[1]), m[2]!] as const));
  return { caught, results, text };
}

/** Waits until every caught exe has a result line (the catcher tried to write it), up to `ms`. */
async function settledLog(path: string, ms = 10_000): Promise<CatchLog> {
  return poll(() => {
    const log = parseLog(existsSync(path) ? readFileSync(path, 'utf8') : '');
    return log.caught.length > 0 && log.caught.every((c) => log.results.has(c.index)) ? log : undefined;
  }, ms, `every caught exe in ${path} to have a result`).catch(() => parseLog(existsSync(path) ? readFileSync(path, 'utf8') : ''));
}

/** Runs fn with these variables in process.env (the tsrun children inherit them). */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const put = (v: Record<string, string | undefined>): void => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k];
      else process.env[k] = x;
    }
  };
  put(vars);
  // In-process, the library takes these as spawn settings, as the CLI does at its edge.
  const restore = configureSpawn(spawnSettingsFrom(process.env));
  try {
    return await fn();
  } finally {
    restore();
    put(saved);
  }
}

/**
 * tsrun-init runs from a read-only mount of it that is in no mount table, or, where that is refused
 * (rootless), from a sealed memfd copy; TSRUN_INIT_COPY=memfd makes the second one testable as root.
 */
const COPIES = [
  { name: 'from a read-only mount', env: { TSRUN_INIT_COPY: undefined } },
  { name: 'from a sealed memfd copy', env: { TSRUN_INIT_COPY: 'memfd' } },
] as const;

describe.skipIf(skip !== undefined)(`security: /proc/self/exe of what tsrun puts in a container is never a writable host file (CVE-2019-5736 class)${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  let work = '';
  let catcher = '';
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tsrun-exe-'));
    catcher = join(work, 'exe-catcher');
    execFileSync('cc', ['-O2', '-static', '-Wall', '-o', catcher, join(REPO, 'test/integration/security/exe-catcher.c')]);
  });
  afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

  /** A bundle with /evil (`#!/proc/self/exe`) and /exe-catcher in its (writable) rootfs. */
  function attackBundle(mutate: (spec: Spec) => void): TestBundle {
    return makeBundle({
      prepareRootfs: (rootfs) => {
        writeFileSync(join(rootfs, 'evil'), EVIL, { mode: 0o755 });
        copyFileSync(catcher, join(rootfs, 'exe-catcher'));
        chmodSync(join(rootfs, 'exe-catcher'), 0o755);
      },
      mutate: (spec) => {
        spec.root!.readonly = false;
        mutate(spec);
      },
    });
  }

  for (const { name, env } of COPIES) describe(`tsrun-init ${name}`, () => {
  it('the container\'s first process (tsrun-init) cannot be reopened for writing: caught while it waits for start, written after it ran /evil', async () => {
    const copy = join(work, `tsrun-init-${process.pid}`);
    copyFileSync(INIT, copy);
    chmodSync(copy, 0o755);
    const before = sha256(copy);
    const root = makeRoot();
    const id = uniqueId('exe-init');
    // No PID namespace: a process exec'd into the container sees (and outlives) its init, as runc's
    // advisory describes. CAP_SYS_PTRACE: a non-dumpable process's exe is then still readable;
    // CAP_DAC_OVERRIDE and CAP_FOWNER (docker's defaults): file modes do not stop the attacker.
    const bundle = attackBundle((s) => {
      s.process!.args = ['/evil'];
      withoutNamespace(s, 'pid');
      for (const cap of ['CAP_SYS_PTRACE', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER']) addCap(s, cap);
    });
    const created = await withEnv({ ...env, TSRUN_INIT: copy }, () => mustCreate(root, bundle, id));
    const initPid = (await stateOf(root, id)).pid;
    const log = join(bundle.rootfs, 'catch.log');
    const ex = await withEnv(env, () => tsrunToFiles(root, ['exec', '-d', id, '/exe-catcher', '/catch.log', '20', String(initPid)], bundle.dir));
    expect(ex.stderr()).toBe('');
    await waitForFile(log, 'caught ');
    const start = await tsrun(root, ['start', id]);
    expect(start.exitCode).toBe(0);
    // The init exec'd /evil: the kernel ran the file behind its /proc/self/exe, tsrun-init.
    await waitForFile(created.stderrFile, 'started by tsrun');
    const result = await settledLog(log);
    expect(result.caught.length, result.text).toBeGreaterThan(0);
    expect(result.caught.map((c) => c.link), result.text).not.toContain(copy);
    if (env.TSRUN_INIT_COPY === 'memfd') expect(result.caught[0]!.link).toMatch(/^\/memfd:tsrun-init/);
    expect(result.text).not.toMatch(/^result \d+ wrote$/m);
    expect(sha256(copy)).toBe(before);
  });

  it('`tsrun exec` never puts a fork of Node in the container: a catcher in its PID namespace cannot write the node that ran tsrun', async () => {
    const node = join(work, 'node');
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
    const before = sha256(node);
    const root = makeRoot();
    const id = uniqueId('exe-node');
    const bundle = attackBundle((s) => {
      s.process!.args = ['/exe-catcher', '/catch.log', '30'];
      for (const cap of ['CAP_SYS_PTRACE', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER']) addCap(s, cap);
    });
    const r = await withEnv(env, () => runDetachedIn(root, bundle, id));
    expect(r.exitCode, r.stderr()).toBe(0);
    const log = join(bundle.rootfs, 'catch.log');
    await waitForFile(log, 'ready ');
    // `tsrun exec ID /evil`, tsrun run by the copy of node. Repeated until the catcher (PID 1,
    // scanning /proc in a loop) caught a process: the set-up takes about a millisecond.
    const dist = join(CLI_ROOT, 'dist/tsrun.js');
    for (let i = 0; i < 20 && !/^caught /m.test(readFileSync(log, 'utf8')); i++) {
      await new Promise<void>((res) => {
        execFile(node, [dist, '--root', root, 'exec', id, '/evil'], { timeout: 15_000, env: { ...process.env, ...env } }, () => res());
      });
    }
    const result = await settledLog(log);
    expect(result.caught.length, result.text).toBeGreaterThan(0);
    expect(result.caught.map((c) => c.link), result.text).not.toContain(node);
    expect(result.text).not.toMatch(/^result \d+ wrote$/m);
    expect(sha256(node)).toBe(before);
  });
  });

  describe('whatever execs the container\'s program is tsrun-init, on every spawn path: /evil (#!/proc/self/exe) runs tsrun-init, never node', () => {
    const HOST_ID = 100000;
    const userNs = (s: Spec): void => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];
    };
    const evilBundle = (mutate: (s: Spec, marker: string, rootfs: string) => void, chown = false): TestBundle => makeBundle({
      prepareRootfs: (rootfs) => {
        writeFileSync(join(rootfs, 'evil'), EVIL, { mode: 0o755 });
        if (chown) execFileSync('chown', ['-R', '-h', `${HOST_ID}:${HOST_ID}`, rootfs]);
      },
      mutate: (s, b) => { s.root!.readonly = false; mutate(s, b.marker, b.rootfs); },
    });

    it('run, with a user namespace', async () => {
      const bundle = evilBundle((s) => { s.process!.args = ['/evil']; userNs(s); }, true);
      const r = await runBundle(bundle);
      expect(r.stderr).toMatch(INIT_NOTICE);
      expect(r.exitCode).toBe(2);
    });

    it('run, without one', async () => {
      const bundle = evilBundle((s) => { s.process!.args = ['/evil']; });
      const r = await runBundle(bundle);
      expect(r.stderr).toMatch(INIT_NOTICE);
      expect(r.exitCode).toBe(2);
    });

    for (const withUserNs of [false, true]) {
      it(`exec${withUserNs ? ', into a container with a user namespace' : ''}`, async () => {
        const root = makeRoot();
        const id = uniqueId('exe-exec');
        const bundle = evilBundle((s, marker) => {
          s.process!.args = ['sh', '-c', 'sleep 1000', marker];
          if (withUserNs) userNs(s);
        }, withUserNs);
        const started = await runDetachedIn(root, bundle, id);
        expect(started.exitCode, started.stderr()).toBe(0);
        const r = await tsrun(root, ['exec', id, '/evil']);
        expect(r.stderr).toMatch(INIT_NOTICE);
        expect(r.exitCode).toBe(2);
      });
    }

    // createContainer hooks run in the container's namespaces before pivot_root: their path is
    // still resolved from the host's root, so the hook is the rootfs's /evil by its host path. On the
    // host, node finds its libraries: a fork of Node would run as the interpreter (and exit 0).
    it('a createContainer hook (run in the container\'s namespaces)', async () => {
      const bundle = evilBundle((s, _marker, rootfs) => { s.hooks = { createContainer: [{ path: join(rootfs, 'evil') }] }; });
      const r = await runBundle(bundle);
      expect(r.stderr).toMatch(INIT_NOTICE);
      expect(r.stderr).toMatch(/createContainer hook 0 \(.*\/evil\) exited with status 2/);
      expect(r.exitCode).not.toBe(0);
    });
  });
});

