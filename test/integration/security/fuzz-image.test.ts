// Fuzzing `image import` with generated hostile sources (fuzz-image-cases.ts): OCI layouts and docker
// archives whose layers try to write outside (absolute and `..` names, writes through symlinks that
// leave the layer, hard links out of it), carry device nodes, huge headers, absurd sizes, bad
// checksums, truncation, broken gzip or zstd, or whose JSON (index, manifest, config, manifest.json)
// is wrong. Each must be refused with a one-line error (or, for the legitimate odd ones, import), and
// every time: the canary directory outside the store is untouched, and the store keeps no temp dir.
// Most go in-process through importImage (what `tsrun image import` calls), some through the CLI.
// Seeded like fuzz-config (TSRUN_FUZZ_SEED); a failure prints the seed, the case and what it was.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsrunError } from '../../../src/errors.js';
import { importImage } from '../../../src/image/import.js';
import { REPO, TSRUN, cannotRunContainers, waitForBuild } from '../../helpers/bundle.js';
import { brokenGzipArchive, imageCase, type ImageCase, type Targets } from './fuzz-image-cases.js';
import { Random, fuzzSeed } from './fuzz-random.js';
import { lines } from './support.js';

const skip = cannotRunContainers();
const SEED = fuzzSeed(0x1a9e5eed);
const IN_PROCESS = 400;
const CLI = 60;
const LAUNCHER = join(dirname(TSRUN), 'tsrun');

let work = '';
let store = '';
let targets: Targets;

/** Every file under `dir` with its size and mtime: what "untouched" is compared on. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      out.push(`${p} ${st?.size ?? '?'} ${st?.mtimeMs ?? '?'}`);
      if (st?.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** What an import left that it must not have: changes outside the store, temp dirs inside it. */
function leftBehind(canaryBefore: string[]): string[] {
  const problems: string[] = [];
  const canaryNow = snapshot(targets.canary);
  if (canaryNow.join('\n') !== canaryBefore.join('\n')) problems.push(`the canary outside the store changed: ${canaryNow.filter((l) => !canaryBefore.includes(l)).join(', ').slice(0, 300)}`);
  if (readFileSync(join(targets.canary, 'victim'), 'utf8') !== 'the host\'s file\n') problems.push('the victim file was written');
  const outside = readdirSync(work).filter((n) => !['canary', 'store', 'src'].includes(n));
  if (outside.length > 0) problems.push(`new files next to the store: ${outside.join(', ')}`);
  const tmp = existsSync(join(store, 'tmp')) ? readdirSync(join(store, 'tmp')) : [];
  if (tmp.length > 0) problems.push(`temp dirs left in the store: ${tmp.join(', ')}`);
  return problems;
}

function describeCase(i: number, c: ImageCase, problem: string): string {
  return `case ${i} (TSRUN_FUZZ_SEED=${SEED}): ${c.what} [${c.expect}]: ${problem}`;
}

/** Failures, one reported per kind of case (with how many more of that kind failed). */
class Failures {
  private readonly byKind = new Map<string, { first: string; more: number }>();
  add(c: ImageCase, text: string): void {
    const kind = c.what.replace(/ \(.*\)$/, '');
    const seen = this.byKind.get(kind);
    if (seen) seen.more++; else this.byKind.set(kind, { first: text, more: 0 });
  }
  get kinds(): number { return this.byKind.size; }
  list(): string[] {
    return [...this.byKind.values()].map((f) => (f.more > 0 ? `${f.first} (and ${f.more} more of this kind)` : f.first));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e as Error); });
  });
}

describe.skipIf(skip !== undefined)(`fuzz: hostile image archives to image import${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tsrun-fuzz-image-'));
    store = join(work, 'store');
    mkdirSync(join(work, 'canary'));
    mkdirSync(join(work, 'src'));
    writeFileSync(join(work, 'canary', 'victim'), 'the host\'s file\n');
    // A layer is unpacked in <store>/tmp/<pid>-XXXXXX/root: four `..` lead to the work dir.
    targets = { canary: join(work, 'canary'), depthToWork: 4 };
    console.log(`fuzz-image: seed ${SEED} (TSRUN_FUZZ_SEED to replay or explore)`);
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it(`${IN_PROCESS} hostile sources in-process: refused in one line (or imported when legitimate), nothing outside the store, no temp dir`, async () => {
    const r = new Random(SEED);
    const failures = new Failures();
    const counts = { refused: 0, imported: 0 };
    for (let i = 0; i < IN_PROCESS && failures.kinds < 10; i++) {
      const c = i % 50 === 49 ? brokenGzipArchive(r) : imageCase(r, targets);
      const dir = join(work, 'src', String(i));
      mkdirSync(dir);
      const source = c.write(dir);
      const before = snapshot(targets.canary);
      let err: unknown;
      try {
        await withTimeout(importImage(source, { store }), 30_000);
      } catch (e) {
        err = e;
      }
      const problems = leftBehind(before);
      if (err === undefined) {
        counts.imported++;
        if (c.expect === 'invalid') problems.push('imported');
      } else {
        counts.refused++;
        if (!(err instanceof TsrunError)) problems.push(`not a TsrunError: ${String((err as Error).stack ?? err).slice(0, 500)}`);
        else if (err.message.includes('\n')) problems.push(`a message of several lines: ${JSON.stringify(err.message.slice(0, 300))}`);
      }
      if (problems.length > 0) failures.add(c, describeCase(i, c, problems.join('; ')));
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(`fuzz-image: in-process ${counts.refused} refused, ${counts.imported} imported`);
    expect(failures.list(), failures.list().join('\n')).toEqual([]);
  }, 180_000);

  it(`${CLI} hostile sources through bin/tsrun image import: one line, non-zero, nothing outside the store`, async () => {
    await waitForBuild();
    const r = new Random((SEED ^ 0x85ebca6b) >>> 0);
    const failures = new Failures();
    for (let i = 0; i < CLI && failures.kinds < 10; i++) {
      const c = i % 10 === 9 ? brokenGzipArchive(r) : imageCase(r, targets);
      const dir = join(work, 'src', `cli-${i}`);
      mkdirSync(dir);
      const source = c.write(dir);
      const before = snapshot(targets.canary);
      const [outFile, errFile] = [join(dir, 'out'), join(dir, 'err')];
      const [out, errFd] = [openSync(outFile, 'w'), openSync(errFile, 'w')];
      const argv = ['image', 'import', '-q', '--store', store, source];
      const child = existsSync(LAUNCHER) ? spawn(LAUNCHER, argv, { cwd: REPO, stdio: ['ignore', out, errFd] }) : spawn('node', [TSRUN, ...argv], { cwd: REPO, stdio: ['ignore', out, errFd] });
      closeSync(out);
      closeSync(errFd);
      const exitCode = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('exit', (code) => { clearTimeout(timer); resolve(code); });
      });
      const stderr = readFileSync(errFile, 'utf8');
      const problems = leftBehind(before);
      if (exitCode === 0) {
        if (c.expect === 'invalid') problems.push('imported');
      } else {
        if (lines(stderr).length !== 1 || !stderr.startsWith('tsrun: ')) problems.push(`stderr is not one error line: ${JSON.stringify(stderr.slice(0, 500))}`);
        if (/\n\s+at /.test(stderr)) problems.push('a stack trace');
      }
      if (problems.length > 0) failures.add(c, describeCase(i, c, problems.join('; ')));
      rmSync(dir, { recursive: true, force: true });
    }
    expect(failures.list(), failures.list().join('\n')).toEqual([]);
  }, 180_000);
});
