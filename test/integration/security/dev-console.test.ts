// Class: the console and ptys through symlinks of the image (CVE-2025-52565, runc GHSA-qw9x-cqr3-wc7r;
// runc's /dev/pts/ptmx checks). runc bind-mounts the container's pty over /dev/console; an image (or
// a racing container) that made /dev/console a symlink had that bind land on, e.g.,
// /proc/sysrq-trigger, writable. tsrun makes no /dev/console at all: the pty it gives the process
// comes from the container's own devpts (/dev/ptmx -> pts/ptmx) and is handed over as fds 0-2, so an
// image's /dev/console is never followed. An image's /dev/ptmx that is not a pty multiplexer fails
// the console step (ioctl TIOCSPTLCK), naming process.terminal, without writing to it.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, TSRUN, waitForBuild, type TestBundle } from '../../helpers/bundle.js';
import { entries, hostileBundle, hostScratch, removeScratch } from './audit-support.js';

const skip = cannotRunContainers() ?? (existsSync('/usr/bin/script') ? undefined : 'util-linux `script` is not installed');

/** tsrun under `script`, which gives it a terminal, as a person running `tsrun run` would have. */
async function runOnTerminal(bundle: TestBundle): Promise<{ out: string; exitCode: number | undefined }> {
  await waitForBuild();
  const r = await execa('script', ['-qec', `node ${TSRUN} run --bundle ${bundle.dir}`, '/dev/null'], {
    reject: false, timeout: 20_000, killSignal: 'SIGKILL', stdin: 'pipe', stripFinalNewline: false,
  });
  return { out: String(r.stdout).replace(/\r/g, ''), exitCode: r.exitCode };
}

function terminalWithImageDev(spec: Spec): void {
  spec.process!.terminal = true;
  spec.mounts = spec.mounts!.filter((m) => m.destination !== '/dev');
}

describe.skipIf(skip !== undefined)(`security: /dev/console and /dev/ptmx of the image${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(removeScratch);

  it('/dev/console -> a host file: the container gets its pty on fds 0-2, the link is left alone, the file untouched', async () => {
    const host = hostScratch('console');
    const file = join(host, 'precious');
    writeFileSync(file, 'host data\n');
    const bundle = hostileBundle('tty; readlink /dev/console; grep -c " /dev/console " /proc/self/mountinfo || true', {
      hostile: (rootfs) => { mkdirSync(join(rootfs, 'dev'), { recursive: true }); symlinkSync(file, join(rootfs, 'dev/console')); },
      mutate: terminalWithImageDev,
    });
    const r = await runOnTerminal(bundle);
    expect(r.out).toBe(`/dev/pts/0\n${file}\n0\n`);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('host data\n');
    expect(entries(host)).toEqual(['precious']);
  });

  it('/dev/ptmx that is a regular file of the image: the console step fails naming process.terminal, the file is not written', async () => {
    let ptmx = '';
    const bundle = hostileBundle('echo should-not-run', {
      hostile: (rootfs) => {
        mkdirSync(join(rootfs, 'dev'), { recursive: true });
        ptmx = join(rootfs, 'dev/ptmx');
        rmSync(ptmx, { force: true });
        writeFileSync(ptmx, 'not a multiplexer\n');
      },
      mutate: terminalWithImageDev,
    });
    const r = await runOnTerminal(bundle);
    expect(r.out).not.toMatch(/should-not-run/);
    expect(r.exitCode).not.toBe(0);
    expect(r.out).toMatch(/process\.terminal\): .* from ioctl\(TIOCSPTLCK\)/);
    expect(readFileSync(ptmx, 'utf8')).toBe('not a multiplexer\n');
  });
});
