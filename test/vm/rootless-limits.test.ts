// Issue 18 in the VM lane (pure cgroup v2): a normal user's container gets memory and pids limits in a
// cgroup subtree delegated to it as systemd's Delegate=yes leaves one (the directory, its cgroup.procs,
// cgroup.subtree_control and cgroup.threads chowned to the user; tsrun started inside it). The user,
// its bundles, the delegated cgroup and the runs as that user are test/integration/rootless/user.ts's.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asUser, cannotRunRootless, createRootlessUser, delegateCgroup, removeRootlessUser, userBundle, type DelegatedCgroup, type RootlessUser,
} from '../integration/rootless/user.js';

const MOUNT = '/sys/fs/cgroup';
function skipReason(): string | undefined {
  const base = cannotRunRootless();
  if (base) return base;
  const controllers = (() => { try { return readFileSync(join(MOUNT, 'cgroup.controllers'), 'utf8'); } catch { return ''; } })().split(/\s+/);
  for (const c of ['memory', 'pids']) if (!controllers.includes(c)) return `no cgroup v2 "${c}" controller at ${MOUNT} (hybrid host): make test-vm`;
  return undefined;
}
const reason = skipReason();

describe.skipIf(reason !== undefined)(`rootless limits in a delegated cgroup${reason ? ` — skipped: ${reason}` : ''}`, () => {
  let user: RootlessUser;
  let cgroup: DelegatedCgroup | undefined;
  let delegated: string;
  beforeAll(() => {
    user = createRootlessUser();
    // As the delegator: the controllers are enabled down to the delegated cgroup, which is the user's.
    writeFileSync(join(MOUNT, 'cgroup.subtree_control'), '+memory +pids');
    cgroup = delegateCgroup(user, MOUNT);
    delegated = cgroup.root;
  });
  afterAll(() => {
    if (user) removeRootlessUser(user);
    cgroup?.remove();
  });
  const inside = { cgroup: '' };
  const run = (args: string[], opts: { detached?: boolean } = {}) => asUser(user, args, { ...opts, cgroup: join(delegated, 'shell'), timeoutMs: 120_000 });

  it('memory and pids limits are written in ROOT/tsrun/ID, owned by the user; an allocation over memory.max is OOM-killed', async () => {
    inside.cgroup = join(delegated, 'shell');
    const b = await userBundle(user, 'lim', (s) => {
      s.process!.args = ['sleep', '300'];
      s.linux!.resources = { memory: { limit: 32 * 1024 * 1024 }, pids: { limit: 20 } };
    });
    const c = await run(['create', '--bundle', b, 'lim'], { detached: true });
    expect(c.stderr).toBe('');
    expect(c.exitCode).toBe(0);
    const dir = join(delegated, 'tsrun', 'lim');
    expect(readFileSync(join(dir, 'memory.max'), 'utf8').trim()).toBe(String(32 * 1024 * 1024));
    expect(readFileSync(join(dir, 'pids.max'), 'utf8').trim()).toBe('20');
    expect((await run(['delete', '--force', 'lim'])).exitCode).toBe(0);
    expect(existsSync(dir)).toBe(false);

    const oom = await userBundle(user, 'oom', (s) => {
      s.process!.args = ['sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived'];
      s.linux!.resources = { memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } };
    });
    const r = await run(['run', '--bundle', oom, 'oom']);
    expect(r.stdout).not.toMatch(/survived/);
    expect(r.exitCode).toBe(137);
  });
});
