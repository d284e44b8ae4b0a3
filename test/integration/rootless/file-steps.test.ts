// tsrun-init's file steps (chownBeneath, removeTree) against a hostile tree: whatever a layer or a
// container put there — symlinks out, `..` — a chown or a removal stays beneath the directory the
// plan opened. Run as root with a privileged map (the steps do not care who wrote the maps).
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Plan, Step } from '../../../src/abi/steps.js';
import { filePlan, removalPlan } from '../../../src/image/file-plan.js';
import { runFilePlan } from '../../../src/image/remove-shifted.js';
import type { IdShift } from '../../../src/image/store-shift.js';
import { cannotRunContainers } from '../../helpers/bundle.js';
import { lgetxattr } from '../../../src/native/fs-ext.js';

const skip = cannotRunContainers();
const shift: IdShift = { uid: [{ containerID: 0, hostID: 0, size: 70000 }], gid: [{ containerID: 0, hostID: 0, size: 70000 }] };
const privileged = (p: Plan): Plan => ({ ...p, idMaps: { ...p.idMaps!, writer: 'privileged' } });

describe.skipIf(skip !== undefined)(`file steps beneath a directory${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let top: string;
  let layer: string;
  let outside: string;
  beforeEach(() => {
    top = mkdtempSync('/tmp/tsrun-filesteps-');
    layer = join(top, 'layer');
    outside = join(top, 'outside');
    mkdirSync(join(layer, 'dir'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'victim'), 'v');
    symlinkSync(outside, join(layer, 'esc'));
    symlinkSync('../outside', join(layer, 'dir', 'rel'));
    writeFileSync(join(layer, 'dir', 'file'), 'f');
  });
  afterEach(() => rmSync(top, { recursive: true, force: true }));

  const chown = (path: string): Step => ({ op: 'chownBeneath', path, uid: 4242, gid: 4242, mode: 0o600, why: '' });

  it('chowns what is beneath (a symlink itself, never its target, and no chmod through it)', async () => {
    await runFilePlan(privileged(filePlan(layer, [chown('dir/file'), chown('esc'), chown('dir/rel'), chown('')], shift, '')), 'test');
    expect(statSync(join(layer, 'dir/file')).uid).toBe(4242);
    expect(statSync(join(layer, 'dir/file')).mode & 0o777).toBe(0o600);
    expect(lstatSync(join(layer, 'esc')).uid).toBe(4242);
    expect(statSync(layer).uid).toBe(4242);
    expect(statSync(outside).uid).toBe(0);
    expect(statSync(outside).mode & 0o777).not.toBe(0o600);
  });

  for (const path of ['esc/victim', 'dir/rel/victim', '../outside/victim', 'dir/../../outside/victim', '/etc/passwd']) {
    it(`refuses a chown of ${path}, which would leave the directory`, async () => {
      await expect(runFilePlan(privileged(filePlan(layer, [chown(path)], shift, '')), 'test')).rejects.toThrow(/lchown .* ELOOP|EXDEV|ENOENT|from openat2/);
      expect(statSync(join(outside, 'victim')).uid).toBe(0);
      expect(statSync('/etc/passwd').uid).toBe(0);
    });
  }

  it('sets an xattr beneath, never on a symlink or through one', async () => {
    const x = (path: string): Step => ({ op: 'setxattrBeneath', path, name: 'user.tsrun-test', value: Buffer.from('v').toString('base64'), why: '' });
    await runFilePlan(privileged(filePlan(layer, [x('dir/file')], shift, '')), 'test');
    expect(lgetxattr(join(layer, 'dir/file'), 'user.tsrun-test')?.toString()).toBe('v');
    for (const path of ['esc', 'esc/victim', 'dir/rel/victim', '../outside/victim']) {
      await expect(runFilePlan(privileged(filePlan(layer, [x(path)], shift, '')), 'test')).rejects.toThrow(/ELOOP|EXDEV/);
    }
    expect(lgetxattr(join(outside, 'victim'), 'user.tsrun-test')).toBeUndefined();
  });

  it('removes a tree with symlinks out (only the links go), deep nesting and unreadable directories', async () => {
    let deep = join(layer, 'dir');
    for (let i = 0; i < 300; i++) { deep = join(deep, 'd'); mkdirSync(deep); }
    writeFileSync(join(deep, 'leaf'), 'x');
    mkdirSync(join(layer, 'locked'), { mode: 0 });
    writeFileSync(join(layer, 'locked-file'), '');
    await runFilePlan(privileged(removalPlan(top, 'layer', shift)), 'test');
    expect(readdirSync(top)).toEqual(['outside']);
    expect(readdirSync(outside)).toEqual(['victim']);
  });

  for (const name of ['', '.', '..', 'dir/..', '../outside']) {
    it(`refuses a removal of ${JSON.stringify(name)}: not a name beneath the directory`, async () => {
      await expect(runFilePlan(privileged(removalPlan(layer, name, shift)), 'test')).rejects.toThrow(/EINVAL|EXDEV/);
      expect(readdirSync(outside)).toEqual(['victim']);
      expect(readdirSync(layer).sort()).toEqual(['dir', 'esc']);
    });
  }

  it('a removal through a symlink removes nothing of its target', async () => {
    await expect(runFilePlan(privileged(filePlan(layer, [{ op: 'removeTree', path: 'esc/victim', why: '' }], shift, '')), 'test')).rejects.toThrow(/openat2|ELOOP/);
    await runFilePlan(privileged(filePlan(layer, [{ op: 'removeTree', path: 'esc', why: '' }], shift, '')), 'test');
    expect(readdirSync(outside)).toEqual(['victim']);
    expect(readdirSync(layer)).toEqual(['dir']);
  });
});
