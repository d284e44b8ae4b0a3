// process.terminal: true. tsrun runs under util-linux `script`, which gives it a pty as its
// controlling terminal (like a person's terminal); the container gets a pty of its own devpts.
import { readlinkSync } from 'node:fs';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cannotRunContainers, containerTestHooks, makeBundle, poll, processesMatching, sh, TSRUN, waitForBuild, type TestBundle,
} from '../../helpers/bundle.js';

const skip = cannotRunContainers() ?? (() => {
  try {
    readlinkSync('/usr/bin/script');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'util-linux `script` is not installed';
  }
  return undefined;
})();

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** `script -qec "<stty…>; node bin/tsrun.js run --bundle B" /dev/null`, stdin piped so a test can type. */
function underScript(bundle: TestBundle, before = 'stty rows 40 cols 100', timeout = 15_000) {
  return execa('script', ['-qec', `${before}; exec node ${q(TSRUN)} run --bundle ${q(bundle.dir)}`, '/dev/null'], {
    reject: false, timeout, killSignal: 'SIGKILL', stdin: 'pipe', stripFinalNewline: false,
  });
}

function terminalBundle(script: string): TestBundle {
  return makeBundle({
    mutate: (s, b) => {
      s.process!.terminal = true;
      s.process!.args = sh(script, b.marker);
    },
  });
}

/**
 * Terminal output with CR LF (and stray CRs) as plain LF, without the "^@" that `script` may echo
 * when its stdin closes (a NUL it writes to its pty; not tsrun's output).
 */
const lines = (out: unknown): string => String(out).replace(/\^@/g, '').replace(/\r+\n/g, '\n');

async function waitFor(proc: ReturnType<typeof underScript>, text: string, ms = 10_000): Promise<void> {
  let seen = '';
  const onData = (c: Buffer): void => { seen += c.toString(); };
  proc.stdout!.on('data', onData);
  try {
    await poll(() => (seen.includes(text) ? true : undefined), ms, `${JSON.stringify(text)} on the terminal (got ${JSON.stringify(seen)})`);
  } finally {
    proc.stdout!.off('data', onData);
  }
}

describe.skipIf(skip !== undefined)(`tsrun run: process.terminal${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  beforeEach(waitForBuild);

  it('the container gets /dev/pts/0 of its own devpts, sized like the caller\'s terminal (40x100)', async () => {
    const bundle = terminalBundle('tty; stty size');
    const proc = underScript(bundle);
    proc.stdin!.end();
    const r = await proc;
    expect(lines(r.stdout)).toMatch(/(^|\n)\/dev\/pts\/0\n40 100\n$/);
    expect(r.exitCode).toBe(0);
  });

  it('another size (25x132) is passed on too', async () => {
    const bundle = terminalBundle('stty size');
    const proc = underScript(bundle, 'stty rows 25 cols 132');
    proc.stdin!.end();
    const r = await proc;
    expect(lines(r.stdout)).toMatch(/25 132\n$/);
  });

  it('the pty is the container\'s controlling terminal and PID 1\'s group is in the foreground', async () => {
    // Fields 5, 6, 8 of /proc/PID/stat: process group, session, foreground process group of the tty.
    const bundle = terminalBundle('echo "stat=$(cut -d" " -f5,6,8 /proc/1/stat)"');
    const proc = underScript(bundle);
    proc.stdin!.end();
    const r = await proc;
    expect(lines(r.stdout)).toMatch(/stat=1 1 1\n$/);
  });

  it('the container\'s exit code comes back through the terminal run', async () => {
    const bundle = terminalBundle('exit 5');
    const proc = underScript(bundle);
    proc.stdin!.end();
    const r = await proc;
    expect(r.exitCode).toBe(5);
  });

  it('typed input reaches the container through the pty', async () => {
    const bundle = terminalBundle('echo ready; read line; echo "got:$line"');
    const proc = underScript(bundle);
    await waitFor(proc, 'ready');
    proc.stdin!.write('hello there\r');
    const r = await proc;
    expect(lines(r.stdout)).toMatch(/got:hello there\n$/);
    expect(r.exitCode).toBe(0);
  });

  it('^C typed on the terminal interrupts the container (SIGINT from its own line discipline)', async () => {
    const bundle = terminalBundle('trap "echo got INT; exit 4" INT; echo ready; while :; do sleep 0.1; done');
    const proc = underScript(bundle);
    await waitFor(proc, 'ready');
    await new Promise((r) => setTimeout(r, 200));
    proc.stdin!.write('\x03');
    const r = await proc;
    expect(lines(r.stdout)).toMatch(/got INT\n$/);
    expect(r.exitCode).toBe(4);
  });

  it('a resize of the caller\'s terminal reaches the container (SIGWINCH, new size)', async () => {
    // `stty rows R cols C` makes two TIOCSWINSZ calls (two SIGWINCH): wait for the final size.
    const bundle = terminalBundle('trap \'s=$(stty size); [ "$s" = "50 120" ] && { echo "size $s"; exit 0; }\' WINCH; echo ready; while :; do sleep 0.1; done');
    const proc = underScript(bundle);
    await waitFor(proc, 'ready');
    // The terminal tsrun runs on: its stdin, a pty of `script`.
    const tsrunPid = await poll(() => processesMatching(bundle.dir).find((p) => p.cmdline.startsWith('node '))?.pid, 5_000, 'tsrun under script');
    const pty = readlinkSync(`/proc/${tsrunPid}/fd/0`);
    expect(pty).toMatch(/^\/dev\/pts\/\d+$/);
    await new Promise((r) => setTimeout(r, 200));
    await execa('stty', ['-F', pty, 'rows', '50', 'cols', '120']);
    const r = await proc;
    expect(lines(r.stdout)).toMatch(/size 50 120\n$/);
    expect(r.exitCode).toBe(0);
  });

  it('raw mode: the container\'s output bytes reach the caller unchanged (CR LF, not CR CR LF)', async () => {
    const bundle = terminalBundle('printf "a\\nb\\n"');
    const proc = underScript(bundle);
    proc.stdin!.end();
    const r = await proc;
    // The container's pty turns \n into \r\n; the caller's terminal, in raw mode, must not add another \r.
    // (`script` may echo a NUL as ^@ when its stdin closes: not tsrun's output.)
    expect(String(r.stdout).replace(/\^@/g, '')).toBe('a\r\nb\r\n');
  });

  it('the caller\'s terminal settings are restored after the run', async () => {
    const bundle = terminalBundle('true');
    const proc = execa('script', ['-qec', `stty rows 40 cols 100; stty -g > /dev/null; a=$(stty -g); node ${q(TSRUN)} run --bundle ${q(bundle.dir)}; b=$(stty -g); [ "$a" = "$b" ] && echo restored || echo "changed: $a -> $b"`, '/dev/null'], {
      reject: false, timeout: 15_000, killSignal: 'SIGKILL', stdin: 'pipe',
    });
    proc.stdin!.end();
    const r = await proc;
    expect(lines(r.stdout)).toMatch(/restored\n?$/);
  });
});
