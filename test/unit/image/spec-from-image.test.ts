import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { specFromImage } from '../../../src/image/spec-from-image.js';
import { resolveUser, parseGroup, parsePasswd } from '../../../src/image/user-db.js';
import { readLayeredFile } from '../../../src/image/layered-file.js';
import { mknod, S_IFCHR } from '../../../src/native/fs-ext.js';
import { defaultSpec } from '../../../src/oci/default-spec.js';
import type { ImageConfig } from '../../../src/image/types.js';
import { isRoot, tempDir } from './fixtures.js';

let cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups) c(); cleanups = []; });

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\napp:x:1000:\nstaff:x:50:app,other\naudio:x:29:app\n';

describe('resolveUser', () => {
  const pw = parsePasswd(PASSWD);
  const gr = parseGroup(GROUP);
  it('maps an empty user to root', () => expect(resolveUser('', pw, gr).user).toEqual({ uid: 0, gid: 0 }));
  it('resolves a name, with the groups listing it as supplementary', () => {
    expect(resolveUser('app', pw, gr)).toEqual({ user: { uid: 1000, gid: 1000, additionalGids: [50, 29] }, home: '/home/app' });
  });
  it('resolves name:group and uid:gid', () => {
    expect(resolveUser('app:staff', pw, gr).user).toEqual({ uid: 1000, gid: 50, additionalGids: [29] });
    expect(resolveUser('1000:7', pw, gr).user.gid).toBe(7);
  });
  it('uses an unknown numeric uid as is, with gid 0', () => expect(resolveUser('4242', pw, gr).user).toEqual({ uid: 4242, gid: 0 }));
  it('refuses an unknown name or group', () => {
    expect(() => resolveUser('ghost', pw, gr)).toThrow(/not in the image's \/etc\/passwd/);
    expect(() => resolveUser('app:ghosts', pw, gr)).toThrow(/not in the image's \/etc\/group/);
  });
});

describe('specFromImage', () => {
  function layers(): string[] {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const [upper, lower] = [`${t.dir}/upper`, `${t.dir}/lower`];
    mkdirSync(`${lower}/etc`, { recursive: true });
    mkdirSync(`${upper}/etc`, { recursive: true });
    writeFileSync(`${lower}/etc/passwd`, 'root:x:0:0::/root:/bin/sh\n');
    writeFileSync(`${lower}/etc/group`, GROUP);
    writeFileSync(`${upper}/etc/passwd`, PASSWD); // the top layer's copy wins
    return [upper, lower];
  }
  const image: ImageConfig = {
    architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] },
    config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'], Env: ['PATH=/bin', 'FOO=1'], WorkingDir: '/work', User: 'app', Labels: { a: 'b' } },
  };

  it('merges Entrypoint/Cmd/Env/WorkingDir/User over the default spec', () => {
    const spec = specFromImage(image, defaultSpec({ terminal: false }), { lowerDirs: layers() });
    expect(spec.process!.args).toEqual(['/bin/sh', '-c', 'echo hi']);
    expect(spec.process!.env).toEqual(['PATH=/bin', 'TERM=xterm', 'FOO=1', 'HOME=/home/app']);
    expect(spec.process!.cwd).toBe('/work');
    expect(spec.process!.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [50, 29] });
    expect(spec.annotations).toMatchObject({ a: 'b', 'org.opencontainers.image.os': 'linux' });
    expect(spec.process!.terminal).toBe(false);
  });

  it('lets run-time args replace Cmd but not Entrypoint', () => {
    expect(specFromImage(image, defaultSpec(), { args: ['ls'], lowerDirs: layers() }).process!.args).toEqual(['/bin/sh', '-c', 'ls']);
  });

  it('refuses an image with no command', () => {
    expect(() => specFromImage({ ...image, config: {} }, defaultSpec())).toThrow(/no Entrypoint or Cmd/);
  });

  it.skipIf(!isRoot)('honours a whiteout of /etc/passwd in a higher layer', () => {
    const [upper, lower] = layers();
    const t = tempDir();
    cleanups.push(t.cleanup);
    mkdirSync(`${t.dir}/etc`);
    mknod(`${t.dir}/etc/passwd`, S_IFCHR | 0o600, 0, 0);
    expect(readLayeredFile([t.dir, upper!, lower!], '/etc/passwd')).toBeUndefined();
    expect(readLayeredFile([t.dir, upper!, lower!], '/etc/group')?.toString()).toBe(GROUP);
  });
});
