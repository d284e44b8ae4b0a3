// Class: `exec --user` parsed into the wrong identity (crun CVE-2026-30892, GHSA-4vg2-xjqj-7chj:
// `crun exec -u 1` ran as uid 0). An exec'd process must run as exactly the uid (and gid) given, and
// anything that is not UID[:GID] must be refused rather than read as root.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks } from '../../helpers/bundle.js';
import { cleanupLifecycle, makeRoot, mustCreateAndStart, tsrun, uniqueId } from '../../helpers/lifecycle.js';
import { hostileBundle } from './audit-support.js';

const skip = cannotRunContainers();

describe.skipIf(skip !== undefined)(`security: exec --user${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  it('runs as exactly the uid and gid given; the container\'s gid when only a uid is given; refuses anything else', async () => {
    const root = makeRoot();
    const id = uniqueId('exec-user');
    const bundle = hostileBundle('sleep 100000', { mutate: (s) => { s.process!.user = { uid: 1000, gid: 1000 }; } });
    await mustCreateAndStart(root, bundle, id);
    const ids = async (user: string): Promise<string> => {
      const r = await tsrun(root, ['exec', '--user', user, id, 'sh', '-c', 'echo $(id -u) $(id -g)']);
      expect(r.stderr).toBe('');
      return r.stdout;
    };
    expect(await ids('1')).toBe('1 1000\n');
    expect(await ids('1:2')).toBe('1 2\n');
    expect(await ids('0:0')).toBe('0 0\n');
    // An empty --user means "not given" (as in runc): the container's user, never root.
    expect(await ids('')).toBe('1000 1000\n');
    for (const bad of ['1x', 'root', '-1', '1:', ':1', '1:2:3', ' 1']) {
      const r = await tsrun(root, ['exec', '--user', bad, id, 'id', '-u']);
      expect(r.stdout, bad).toBe('');
      expect(r.exitCode, bad).not.toBe(0);
    }
  });
});
