// Class: seccomp user notification fds (runc and crun send the listener fd of SCMP_ACT_NOTIFY to
// linux.seccomp.listenerPath; a process holding it answers the container's syscalls for it, and the
// fd must never stay in the container or reach anyone else). tsrun does not implement notification:
// a profile with SCMP_ACT_NOTIFY, listenerPath or listenerMetadata is refused before anything is
// made, naming the field, and nothing connects to the listener.
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Seccomp } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, runBundle } from '../../helpers/bundle.js';
import { hostileBundle, hostScratch, removeScratch } from './audit-support.js';

const skip = cannotRunContainers();

describe.skipIf(skip !== undefined)(`security: seccomp notification fds${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(removeScratch);
  const servers: Server[] = [];
  afterEach(async () => { for (const s of servers.splice(0)) await new Promise((r) => s.close(() => r(undefined))); });

  async function listener(): Promise<{ path: string; connections: () => number }> {
    const path = join(hostScratch('listener'), 'seccomp.sock');
    let n = 0;
    const server = createServer((c) => { n += 1; c.destroy(); });
    servers.push(server);
    await new Promise<void>((r) => server.listen(path, r));
    return { path, connections: () => n };
  }

  const cases: [string, (path: string) => Seccomp, RegExp][] = [
    ['SCMP_ACT_NOTIFY with a listenerPath', (path) => ({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: path, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }),
      /linux\.seccomp\.(syscalls\[0\]\.action|listenerPath): .*(NOTIFY|not supported)/],
    ['a listenerPath alone', (path) => ({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: path, listenerMetadata: 'x' }),
      /linux\.seccomp\.listener(Path|Metadata): /],
    ['SCMP_ACT_NOTIFY as the default action', (path) => ({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: path }),
      /linux\.seccomp\.(defaultAction|listenerPath): /],
  ];

  for (const [what, profile, message] of cases) {
    it(`${what}: refused, naming the field; nothing connects to the listener`, async () => {
      const l = await listener();
      const bundle = hostileBundle('echo ran', { mutate: (s) => { s.linux!.seccomp = profile(l.path); } });
      const r = await runBundle(bundle);
      expect(r.stdout).toBe('');
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(l.connections()).toBe(0);
    });
  }
});
