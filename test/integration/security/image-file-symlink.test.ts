// Class: the runtime reading a file of the image on the host side through the image's symlinks
// (crun CVE-2025-24965: krun's .krun_config.json followed out of the rootfs). `tsrun run --image`
// reads the image's /etc/passwd and /etc/group in its layers to turn config.User into ids; an image
// whose /etc/passwd is a symlink to a host file would make tsrun use (and so reveal) the host's
// file. tsrun follows an image's symlinks inside the image only (an absolute target starts at the
// image root), so the user is looked up in the image's own files.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, runTsrun, SAMPLE_ROOTFS } from '../../helpers/bundle.js';
import { makeTar, writeLayout } from '../../unit/image/fixtures.js';
import { hostScratch, removeScratch } from './audit-support.js';

const skip = cannotRunContainers();

describe.skipIf(skip !== undefined)(`security: image files read through symlinks${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(removeScratch);

  it('an image whose /etc/passwd and /etc/group are symlinks to host files: config.User is not found in the host\'s files', async () => {
    const host = hostScratch('passwd');
    writeFileSync(join(host, 'passwd'), 'audit:x:4242:4242:from the host:/home/audit:/bin/sh\n');
    writeFileSync(join(host, 'group'), 'audit:x:4242:\n');
    const base = execFileSync('tar', ['-C', SAMPLE_ROOTFS, '--owner=0', '--group=0', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
    const links = await makeTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/passwd', type: 'symlink', linkname: join(host, 'passwd') },
      { name: 'etc/group', type: 'symlink', linkname: join(host, 'group') },
    ]);
    const layout = hostScratch('layout');
    writeLayout(layout, [base, links], { config: { config: { User: 'audit', Cmd: ['id', '-u'] } } });
    const store = hostScratch('store');
    const r = await runTsrun(['run', '--store', store, '--image', layout]);
    expect(r.stdout, 'the container ran as the host file\'s uid').not.toMatch(/4242/);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrun: image user 'audit' is not in the image's \/etc\/passwd/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
