// Executable labs: parses docs/labs/NN-*.md and runs their fenced blocks in order, checking the output
// each lab promises, so the docs cannot rot. The block format is documented in docs/labs/README.md
// ("How the labs are tested"); in short:
//
//   ```sh lab [exit=N|exit=any|exit=nonzero] [timeout=S]    commands, run with `bash -c` (stderr merged)
//   ```text expected                                          the next expected block belongs to it
//   ```sh cleanup                                             always runs at the end, even after a failure
//
// Expected lines: literal (trailing blanks ignored), `/regex/` (whole line), `...` (any lines, 0 or more).
// Each lab gets a temp dir $LAB, a private copy of the sample bundle $BUNDLE ($LAB/bundle) and a unique
// container id $CTR. After the lab the harness checks nothing was left: no container whose id starts with
// $CTR, no mount under $LAB, no cgroup named $CTR*, no process mentioning $LAB or $CTR.
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { settled } from './bundle.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const LABS_DIR = join(REPO, 'docs/labs');
export const SAMPLE_BUNDLE = join(REPO, 'rootfs-samples/build/busybox');

export interface ExpectedBlock { text: string; line: number }
export interface LabBlock {
  kind: 'lab' | 'cleanup';
  code: string;
  /** 1-based line of the opening fence in the markdown. */
  line: number;
  /** Required exit status: a number, 'any', or 'nonzero'. Default 0. */
  exit: number | 'any' | 'nonzero';
  /** Seconds before the block is killed (default 60). */
  timeout: number;
  expected?: ExpectedBlock;
}
export interface Lab {
  file: string;
  /** e.g. "01-pid-namespace". */
  name: string;
  title: string;
  /** Where it runs: 'host' (integration project) or 'vm' (the cgroup v2 VM lane). */
  lane: 'host' | 'vm';
  /** cgroup v2 controllers the lab needs (from `<!-- lab lane=vm needs=memory -->`). */
  needs: string[];
  blocks: LabBlock[];
  cleanup: LabBlock[];
}

const FENCE = /^(`{3,})\s*(.*)$/;
/**
 * TSRUN_LAB_SHOW=1 prints every block and its output as it runs, as a learner would see them (`make lab
 * LAB=NN`, `make lab-vm LAB=NN`); otherwise the transcript is printed only when a lab fails.
 */
const SHOW = process.env.TSRUN_LAB_SHOW === '1';
/** Code runs 13-20x slower in the VM lane (qemu TCG): block timeouts stretch there. */
const SLOWDOWN = process.env.TSRUN_VM === '1' ? 5 : 1;

/** Parses one lab file. Throws on malformed input (an expected block with no lab block before it…). */
export function parseLab(markdown: string, file: string): Lab {
  const lines = markdown.split('\n');
  const title = (lines.find((l) => l.startsWith('# ')) ?? basename(file)).replace(/^# /, '').trim();
  const meta = /<!--\s*lab\b([^>]*)-->/.exec(markdown)?.[1] ?? '';
  const kv = Object.fromEntries([...meta.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
  const lane = kv.lane === 'vm' ? 'vm' : 'host';
  const needs = kv.needs ? kv.needs.split(',').filter(Boolean) : [];
  const blocks: LabBlock[] = [];
  const cleanup: LabBlock[] = [];
  let last: LabBlock | undefined;
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    const info = open[2]!.trim().split(/\s+/);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !(lines[j]!.startsWith(fence) && lines[j]!.trim() === fence); j++) body.push(lines[j]!);
    if (j >= lines.length) throw new Error(`${file}:${i + 1}: unclosed code fence`);
    const text = body.join('\n');
    const [lang, role, ...opts] = info;
    if (lang === 'sh' && (role === 'lab' || role === 'cleanup')) {
      const block: LabBlock = { kind: role, code: text, line: i + 1, exit: 0, timeout: 60 };
      for (const o of opts) {
        const [k, v] = o.split('=');
        if (k === 'exit') block.exit = v === 'any' || v === 'nonzero' ? v : Number(v);
        else if (k === 'timeout') block.timeout = Number(v);
        else throw new Error(`${file}:${i + 1}: unknown block option ${o}`);
      }
      if (typeof block.exit === 'number' && !Number.isInteger(block.exit)) throw new Error(`${file}:${i + 1}: bad exit=`);
      (role === 'lab' ? blocks : cleanup).push(block);
      last = role === 'lab' ? block : undefined;
    } else if (lang === 'text' && role === 'expected') {
      if (!last) throw new Error(`${file}:${i + 1}: an expected block needs a \`sh lab\` block before it`);
      if (last.expected) throw new Error(`${file}:${i + 1}: two expected blocks for the lab block at line ${last.line}`);
      last.expected = { text, line: i + 1 };
    } else {
      // Any other fenced block (plain ```sh, ```json…) is illustration only; it ends the pairing.
      last = undefined;
    }
    i = j;
  }
  if (blocks.length === 0) throw new Error(`${file}: no \`sh lab\` blocks`);
  return { file, name: basename(file, '.md'), title, lane, needs, blocks, cleanup };
}

/** Every lab in docs/labs (files named NN-*.md), in order. */
export function loadLabs(dir = LABS_DIR): Lab[] {
  return readdirSync(dir)
    .filter((f) => /^\d\d-.*\.md$/.test(f))
    .sort()
    .map((f) => parseLab(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
}

const clean = (s: string): string[] => {
  const out = s.split('\n').map((l) => l.replace(/\s+$/, ''));
  while (out.length && out[out.length - 1] === '') out.pop();
  return out;
};

function lineMatches(pattern: string, line: string): boolean {
  if (pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    return new RegExp(`^(?:${pattern.slice(1, -1)})$`).test(line);
  }
  return pattern === line;
}

/** Matches output against an expected block; null when it matches, else a readable explanation. */
export function matchOutput(actual: string, expected: string): string | null {
  const a = clean(actual);
  const e = clean(expected);
  const memo = new Map<string, boolean>();
  let best = { e: 0, a: 0 };
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    if (i > best.e || (i === best.e && j > best.a)) best = { e: i, a: j };
    let r: boolean;
    if (i === e.length) r = j === a.length;
    else if (e[i] === '...') r = go(i + 1, j) || (j < a.length && go(i, j + 1));
    else r = j < a.length && lineMatches(e[i]!, a[j]!) && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  if (go(0, 0)) return null;
  const want = e[best.e];
  const got = a[best.a];
  return [
    want === undefined ? `unexpected extra output from line ${best.a + 1}: ${JSON.stringify(got)}`
      : got === undefined ? `output ended; still expected line ${best.e + 1}: ${JSON.stringify(want)}`
        : `expected line ${best.e + 1} ${JSON.stringify(want)} does not match output line ${best.a + 1} ${JSON.stringify(got)}`,
    '--- expected', ...e, '--- actual', ...a,
  ].join('\n');
}

export interface BlockResult { code: number | null; signal: NodeJS.Signals | null; output: string; timedOut: boolean }

/**
 * Runs one block with `bash -c`, cwd = repo root, stdin /dev/null, stdout and stderr into one file (not a
 * pipe: a detached container keeps the stdio it was given open long after the block has exited).
 */
export function runBlock(code: string, env: Record<string, string>, timeoutS: number, outFile: string): Promise<BlockResult> {
  return new Promise((resolveRun) => {
    const fd = openSync(outFile, 'w');
    // A process group of its own, so a timeout kills everything the block started in it.
    const child = spawn('bash', ['-c', code], {
      cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd], detached: true,
    });
    closeSync(fd);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutS * 1000);
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      resolveRun({ code, signal, output: readFileSync(outFile, 'utf8'), timedOut });
    };
    child.on('exit', done);
    child.on('error', () => done(null, null));
  });
}

function exitOk(want: LabBlock['exit'], code: number | null): boolean {
  if (want === 'any') return true;
  if (want === 'nonzero') return code !== 0 && code !== null;
  return code === want;
}

/** The first cgroup2 mount point, as tsrun finds it (from mountinfo, never assumed). */
export function cgroup2Mount(): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.split(' ')[0] === 'cgroup2') return pre!.split(' ')[4];
  }
  return undefined;
}

/** Polls `cond` (every 250 ms, blocking: this runs while vitest collects tests) until it holds or `ms` pass. */
function waitSync(cond: () => boolean, ms: number): boolean {
  const end = Date.now() + ms;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (!cond()) {
    if (Date.now() >= end) return false;
    Atomics.wait(cell, 0, 0, 250);
  }
  return true;
}

/** Why this machine cannot run a lab, or null. */
export function labSkipReason(lab: Lab): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  // Other engineers rebuild dist/ and the shim in this working tree (and the VM lane sees the host's files
  // as they are at that moment): give a rebuild in progress up to 30 s before calling tsrun unbuilt.
  const built = () => existsSync(join(REPO, 'dist/tsrun.js')) && existsSync(join(REPO, 'native-bindings/build/libtsrun-shim.so'));
  if (!waitSync(built, 30_000)) return 'tsrun is not built: run `make build`';
  if (!existsSync(join(SAMPLE_BUNDLE, 'config.json'))) return 'sample bundle missing: run `make samples`';
  if (lab.needs.length) {
    const mnt = cgroup2Mount();
    if (!mnt) return `no cgroup v2 mount: run it in the VM lane (make lab-vm LAB=${lab.name.slice(0, 2)})`;
    const have = readFileSync(join(mnt, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    const missing = lab.needs.filter((c) => !have.includes(c));
    if (missing.length) {
      return `missing cgroup v2 controllers: ${missing.join(' ')} (the v2 hierarchy at ${mnt} has only: ${have.join(' ') || 'none'}); runs in the VM lane: make lab-vm LAB=${lab.name.slice(0, 2)}`;
    }
  }
  return null;
}

/** Leftovers of a lab: containers, mounts, cgroups, processes. Empty when it cleaned up after itself. */
export function leftovers(labDir: string, ctr: string): string[] {
  const found: string[] = [];
  try {
    const list = execFileSync(join(REPO, 'bin/tsrun'), ['list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const l of list.split('\n').slice(1)) if (l.startsWith(ctr)) found.push(`container: ${l.trim()}`);
  } catch { /* no state dir yet */ }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && (mp === labDir || mp.startsWith(`${labDir}/`))) found.push(`mount: ${mp}`);
  }
  const mnt = cgroup2Mount();
  const tsrunCg = mnt && join(mnt, 'tsrun');
  if (tsrunCg && existsSync(tsrunCg)) {
    for (const d of readdirSync(tsrunCg)) if (d.startsWith(ctr)) found.push(`cgroup: ${join(tsrunCg, d)}`);
  }
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    let cmd = '';
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { continue; }
    if (cmd.includes(labDir) || cmd.includes(ctr)) found.push(`process ${pid}: ${cmd.trim()}`);
  }
  return found;
}

export interface LabRun {
  /** One entry per failure (blocks, cleanup, leftovers); empty when the lab passed. */
  failures: string[];
  /** Every block's output, for the test log. */
  transcript: string;
}

/** Runs a lab end to end in a fresh $LAB with a fresh bundle copy; always runs cleanup and removes $LAB. */
export async function runLab(lab: Lab): Promise<LabRun> {
  const labDir = mkdtempSync(join(tmpdir(), `tsrun-lab-${lab.name.slice(0, 2)}-`));
  // A container whose root maps to another host uid (lab 06) must be able to reach its bundle.
  chmodSync(labDir, 0o755);
  const ctr = `lab${lab.name.slice(0, 2)}-${Math.random().toString(36).slice(2, 8)}`;
  const env = { LAB: labDir, BUNDLE: join(labDir, 'bundle'), CTR: ctr };
  // Block output goes to a file outside $LAB (a lab may list $LAB).
  const outDir = mkdtempSync(join(tmpdir(), 'tsrun-labout-'));
  const outFile = join(outDir, 'output');
  execFileSync('cp', ['-a', SAMPLE_BUNDLE, env.BUNDLE]);
  const failures: string[] = [];
  let transcript = '';
  const where = (b: LabBlock) => `${basename(lab.file)}:${b.line}`;
  try {
    for (const b of lab.blocks) {
      await waitForBuild();
      let r = await runBlock(b.code, env, b.timeout * SLOWDOWN, outFile);
      // Caught a rebuild of dist/ or the native shim by another engineer halfway: run the block again.
      for (let retry = 0; retry < 2 && BUILD_RACE.test(r.output); retry++) {
        await new Promise((res) => setTimeout(res, 2_000));
        await waitForBuild();
        r = await runBlock(b.code, env, b.timeout * SLOWDOWN, outFile);
      }
      const shown = `$ [${where(b)}]\n${b.code}\n${r.output}${r.timedOut ? '(timed out)\n' : ''}`;
      transcript += shown;
      if (SHOW) writeSync(1, shown);
      if (r.timedOut) { failures.push(`${where(b)}: timed out after ${b.timeout * SLOWDOWN} s\n${r.output}`); break; }
      if (!exitOk(b.exit, r.code)) {
        failures.push(`${where(b)}: exit status ${r.code ?? r.signal}, expected ${b.exit}\n${r.output}`);
        break;
      }
      if (b.expected) {
        const why = matchOutput(r.output, b.expected.text);
        if (why) { failures.push(`${where(b)} (expected at line ${b.expected.line}): ${why}`); break; }
      }
    }
  } finally {
    for (const b of lab.cleanup) {
      const r = await runBlock(b.code, env, b.timeout * SLOWDOWN, outFile);
      transcript += `$ [cleanup ${where(b)}]\n${b.code}\n${r.output}`;
      if (r.code !== 0) failures.push(`cleanup ${where(b)}: exit status ${r.code ?? r.signal}\n${r.output}`);
    }
    // A cleanup that kills (ip netns pids … | xargs kill -9, pkill -KILL) returns before the processes
    // have died, and a dying one still shows its command line: give them a moment, as leftovers() of
    // test/helpers/bundle.ts does, instead of looking once.
    const left = await settled(() => leftovers(labDir, ctr), (l) => l.length === 0, 3_000);
    if (left.length) failures.push(`the lab left things behind:\n${left.join('\n')}`);
    // Processes the lab started and left running: end them (by pid) before removing $LAB.
    for (const p of left.filter((l) => l.startsWith('process ')).map((l) => Number(l.split(/[ :]/)[1]))) {
      try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    }
    // Never delete through a leaked mount.
    for (const m of left.filter((l) => l.startsWith('mount: ')).map((l) => l.slice(7)).sort().reverse()) {
      try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* reported */ }
    }
    try { execFileSync('rm', ['-rf', '--one-file-system', '--', labDir], { stdio: 'ignore' }); } catch { /* best effort */ }
    rmSync(outDir, { recursive: true, force: true });
  }
  return { failures, transcript };
}

const BUILD_RACE = /ERR_MODULE_NOT_FOUND[\s\S]*dist\/|Cannot find module '[^']*\/dist\/|Failed to load shared library/;

/** Other engineers rebuild dist/ in this working tree: wait (up to 15 s) while it is missing. */
async function waitForBuild(): Promise<void> {
  const end = Date.now() + 15_000;
  while (!existsSync(join(REPO, 'dist/tsrun.js')) && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
}

/** One test per lab: run its blocks and check the promised output; skipped with the reason where the
 * host cannot run it (labs that need cgroup v2 controllers run in the VM lane). */
export function labTests(labs: readonly Lab[], timeoutMs: number): void {
  for (const lab of labs) {
    const reason = labSkipReason(lab);
    const title = `${lab.name}: ${lab.title}${reason ? ` (skipped: ${reason})` : ''}`;
    it.skipIf(reason !== null)(title, async () => {
      const r = await runLab(lab);
      if (r.failures.length && !SHOW) console.log(r.transcript);
      expect(r.failures.join('\n\n')).toBe('');
    }, timeoutMs);
  }
}
