// Fuzzing `create` with generated bad configs (fuzz-config-cases.ts) and bad ids. Every one must be
// refused with a one-line error that names what is wrong, and leave nothing: no state dir, no cgroup,
// no mount, no process.
//  - Most go in-process through createContainer (what `tsrun create` calls) with a state root that
//    cannot be made (its parent is a regular file): a config that got past every check trips on it
//    before anything exists, and that is reported as the finding it is.
//  - A few hundred go through the real CLI, `bin/tsrun create`, with the default state root; then
//    /run/tsrun, the cgroup tree, the mount table and the process list are checked after each.
//    Configs that may be valid but carry hostile strings go only this way: they must end in a clean
//    error at the missing program (or earlier) and leave nothing.
// The PRNG is seeded (TSRUN_FUZZ_SEED=<n> or =random to explore); a failure prints the seed, the
// case number, the mutations and the config.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectCgroupHost, type CgroupHost } from '../../../src/cgroups/index.js';
import { createContainer } from '../../../src/container/create.js';
import { TsrunError } from '../../../src/errors.js';
import { validateId } from '../../../src/state/ids.js';
import { REPO, SAMPLE_ROOTFS, TSRUN, cannotRunContainers, mountPoints, processesMatching, removeTree, sampleSpec, waitForBuild } from '../../helpers/bundle.js';
import { cgroup2Mount } from '../../helpers/lifecycle.js';
import { MISSING_PROGRAM, badConfigCase, badId, hostileValidCase, type FuzzCase, type JsonObject } from './fuzz-config-cases.js';
import { Random, fuzzSeed } from './fuzz-random.js';
import { lines } from './support.js';

const skip = cannotRunContainers();
const SEED = fuzzSeed(0x5eedc0f1);
const IN_PROCESS = 3000;
const CLI_BAD = 160;
const CLI_HOSTILE = 40;
const STATE_ROOT = '/run/tsrun';
/** The launcher (bin/tsrun, ~35 ms a command) rather than `node bin/tsrun.js` (~75 ms): hundreds of runs. */
const LAUNCHER = join(dirname(TSRUN), 'tsrun');
const cliCommand = (args: string[]): [string, string[]] => (existsSync(LAUNCHER) ? [LAUNCHER, args] : ['node', [TSRUN, ...args]]);

let work = '';
let rootfs = '';
let tripwireRoot = '';

/** The sample's config on a private copy of its rootfs, running a program that does not exist. */
function baseConfig(): JsonObject {
  const spec = sampleSpec();
  delete spec.linux!.resources;
  spec.root = { path: rootfs, readonly: true };
  spec.process!.args = [MISSING_PROGRAM];
  return JSON.parse(JSON.stringify(spec)) as JsonObject;
}

const isValidId = (id: string): boolean => {
  try { validateId(id); return true; } catch { return false; }
};

function describeCase(i: number, c: FuzzCase, id: string, problem: string): string {
  return `case ${i} (TSRUN_FUZZ_SEED=${SEED}): ${problem}\n  mutations: ${c.what.join('; ')}\n  id: ${JSON.stringify(id).slice(0, 120)}\n  config.json: ${c.text.slice(0, 1500)}${c.text.length > 1500 ? `… (${c.text.length} characters)` : ''}`;
}

/** What is wrong with how create failed, or undefined when it failed as it should. */
function judgeError(err: unknown, c: FuzzCase): string | undefined {
  if (err === undefined) return 'accepted';
  if (!(err instanceof TsrunError)) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOTDIR' && String(e.message).includes(tripwireRoot)) return 'passed every check: it reached the making of the state dir';
    return `not a TsrunError: ${String(e.stack ?? e).slice(0, 400)}`;
  }
  const message = err.message;
  if (message.trim() === '') return 'an empty message';
  if (message.includes('\n')) return `a message of several lines: ${JSON.stringify(message.slice(0, 300))}`;
  const named = c.names.some((n) => message.includes(n) || err.details.field?.startsWith(n) === true || (n === 'config.json' && message.includes('config.json')));
  if (!named) return `the message names none of ${c.names.join(', ')}: ${JSON.stringify(message.slice(0, 300))}`;
  return undefined;
}

describe.skipIf(skip !== undefined)(`fuzz: generated bad configs to create${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tsrun-fuzz-config-'));
    rootfs = join(work, 'rootfs');
    execFileSync('cp', ['-a', SAMPLE_ROOTFS, rootfs]);
    writeFileSync(join(work, 'not-a-dir'), '');
    tripwireRoot = join(work, 'not-a-dir', 'root');
    console.log(`fuzz-config: seed ${SEED} (TSRUN_FUZZ_SEED to replay or explore)`);
  });
  afterAll(() => {
    if (work) removeTree(work);
  });

  it(`${IN_PROCESS} bad configs and ids, in-process: a TsrunError of one line naming the field, before anything is made`, async () => {
    const r = new Random(SEED);
    const base = baseConfig();
    const baseText = JSON.stringify(base);
    const host: CgroupHost = detectCgroupHost();
    const bundle = join(work, 'in-process');
    mkdirSync(bundle);
    const failures: string[] = [];
    const attempt = async (i: number, c: FuzzCase, id: string, bundleDir = bundle): Promise<void> => {
      let err: unknown;
      try {
        await createContainer({ id, bundle: bundleDir, root: tripwireRoot, cgroupHost: () => host, warn: () => {} });
      } catch (e) {
        err = e;
      }
      const problem = judgeError(err, c);
      if (problem) failures.push(describeCase(i, c, id, problem));
    };

    // config.json that is no config file at all, and bundles that are not there.
    const special: [string, (dir: string) => void][] = [
      ['a FIFO', (d) => execFileSync('mkfifo', [join(d, 'config.json')])],
      ['a link to /dev/zero', (d) => symlinkSync('/dev/zero', join(d, 'config.json'))],
      ['a directory', (d) => mkdirSync(join(d, 'config.json'))],
      ['a dangling link', (d) => symlinkSync(join(d, 'nothing'), join(d, 'config.json'))],
      ['missing', () => {}],
    ];
    for (const [k, [what, make]] of special.entries()) {
      const dir = join(work, `special-${k}`);
      mkdirSync(dir);
      make(dir);
      await attempt(-1 - k, { what: [`config.json is ${what}`], text: '', names: ['config.json'] }, `fz-special-${k}`, dir);
    }
    await attempt(-10, { what: ['the bundle directory does not exist'], text: '', names: ['bundle directory'] }, 'fz-nobundle', join(work, 'no-such-bundle'));

    for (let i = 0; i < IN_PROCESS && failures.length < 5; i++) {
      const withBadId = r.chance(0.05);
      const c: FuzzCase = withBadId ? { what: ['a bad id'], text: baseText, names: ['container id'] } : badConfigCase(base, r);
      const id = withBadId ? badId(r) : `fz-${process.pid}-${i}`;
      writeFileSync(join(bundle, 'config.json'), c.text);
      await attempt(i, c, id);
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
  }, 120_000);

  it(`${CLI_BAD} bad configs and ${CLI_HOSTILE} hostile ones through bin/tsrun create: one line, non-zero, nothing left`, async () => {
    await waitForBuild();
    const r = new Random((SEED ^ 0x9e3779b9) >>> 0);
    const base = baseConfig();
    const cg2 = cgroup2Mount();
    const mountsUnderWork = (): string[] => mountPoints().filter((m) => m.startsWith(work));
    const failures: string[] = [];
    /** How far the hostile (perhaps valid) configs got: the first words of their errors, counted. */
    const hostileEnds = new Map<string, number>();
    const cases: { c: FuzzCase; id: string; hostile: boolean }[] = [];
    for (let i = 0; i < CLI_BAD + CLI_HOSTILE; i++) {
      const hostile = i >= CLI_BAD;
      const withBadId = !hostile && r.chance(0.05);
      const c: FuzzCase = hostile ? hostileValidCase(base, r) : withBadId ? { what: ['a bad id'], text: JSON.stringify(base), names: ['container id'] } : badConfigCase(base, r);
      cases.push({ c, id: withBadId ? badId(r).replaceAll('\u0000', '') : `fz-${process.pid}-cli-${i}`, hostile });
    }

    const runOne = async (slot: number, i: number): Promise<void> => {
      const { c, id, hostile } = cases[i]!;
      const bundle = join(work, `cli-${slot}`);
      mkdirSync(bundle, { recursive: true });
      writeFileSync(join(bundle, 'config.json'), c.text);
      const [outFile, errFile] = [join(bundle, 'out'), join(bundle, 'err')];
      const [out, err] = [openSync(outFile, 'w'), openSync(errFile, 'w')];
      // `--` so that an id starting with `-` reaches tsrun as the id.
      const [cmd, argv] = cliCommand(['create', '--bundle', bundle, '--', id]);
      const child = spawn(cmd, argv, { cwd: REPO, stdio: ['ignore', out, err] });
      closeSync(out);
      closeSync(err);
      const exitCode = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.on('exit', (code) => { clearTimeout(timer); resolve(code); });
      });
      const stderr = readFileSync(errFile, 'utf8');
      const errors = lines(stderr).filter((l) => !l.startsWith('tsrun: warning: '));
      const problems: string[] = [];
      if (exitCode === 0) problems.push('create succeeded');
      if (errors.length !== 1 || !errors[0]!.startsWith('tsrun: ')) problems.push(`stderr is not one error line: ${JSON.stringify(stderr.slice(0, 600))}`);
      if (/\n\s+at /.test(stderr)) problems.push('a stack trace');
      if (hostile) {
        const end = (errors[0] ?? '').includes(MISSING_PROGRAM) ? 'the missing program (create got to the last check)' : `a step (${(errors[0] ?? '').replace(/^tsrun: /, '').split(' ')[0]})`;
        hostileEnds.set(end, (hostileEnds.get(end) ?? 0) + 1);
      }
      if (!hostile && errors.length === 1 && !c.names.some((n) => errors[0]!.includes(n))) problems.push(`the error names none of ${c.names.join(', ')}: ${JSON.stringify(errors[0])}`);
      if (isValidId(id)) {
        if (existsSync(join(STATE_ROOT, id))) problems.push(`left ${STATE_ROOT}/${id}`);
        if (cg2 && existsSync(join(cg2, 'tsrun', id))) problems.push(`left the cgroup ${cg2}/tsrun/${id}`);
        const procs = processesMatching(id);
        if (procs.length > 0) problems.push(`left processes: ${procs.map((p) => `${p.pid} ${p.cmdline}`).join('; ').slice(0, 300)}`);
      }
      const mounts = mountsUnderWork();
      if (mounts.length > 0) problems.push(`left mounts: ${mounts.join(', ').slice(0, 300)}`);
      if (problems.length > 0) {
        failures.push(describeCase(i, c, id, problems.join('; ')));
        // Clean up what it left, so that the next cases are judged on their own.
        if (isValidId(id)) { const [cmd, argv] = cliCommand(['delete', '--force', id]); try { execFileSync(cmd, argv, { cwd: REPO, stdio: 'ignore' }); } catch { /* reported */ } }
        for (const m of mounts.sort().reverse()) { try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* reported */ } }
      }
    };

    // Two at a time: the host has two cores and other tests may run.
    let next = 0;
    const worker = async (slot: number): Promise<void> => {
      while (next < cases.length && failures.length < 5) await runOne(slot, next++);
    };
    await Promise.all([worker(0), worker(1)]);
    console.log(`fuzz-config: the hostile configs ended at: ${[...hostileEnds].map(([k, n]) => `${n}× ${k}`).join('; ')}`);
    expect(failures, failures.join('\n\n')).toEqual([]);
  }, 180_000);
});
