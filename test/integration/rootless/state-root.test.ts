// Where a normal user's state and images go, and what it is told when it cannot write there: one
// line naming the path and the fix, never a Node stack trace.
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asUser, userBundle, cannotRunRootless, createRootlessUser, removeRootlessUser, type RootlessUser } from './user.js';

const skip = cannotRunRootless();

describe.skipIf(skip !== undefined)(`rootless: state root and store per user${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let user: RootlessUser;
  beforeAll(() => { user = createRootlessUser(); });
  const after: (() => void)[] = [];
  afterAll(() => { for (const f of after) f(); if (user) removeRootlessUser(user); });

  const noStack = (stderr: string): void => {
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  };

  it('list works and the state root is $XDG_RUNTIME_DIR/tsrun', async () => {
    const r = await asUser(user, ['list']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const s = await asUser(user, ['state', 'nosuch']);
    expect(s.exitCode).not.toBe(0);
    noStack(s.stderr);
    expect(s.stderr).toMatch(/container nosuch does not exist/);
    // `check --json` names the roots it would use.
    const c = await asUser(user, ['check', '--format', 'json']);
    const roots = (JSON.parse(c.stdout) as { roots?: { state: string; store: string } }).roots;
    expect(roots).toEqual({ state: join(user.runtimeDir, 'tsrun'), store: join(user.home, '.local/share/tsrun') });
  });

  it('without XDG_RUNTIME_DIR the state goes under ~/.local/share/tsrun, even when $HOME is still root\'s', async () => {
    const c = await asUser(user, ['check', '--format', 'json'], { env: { XDG_RUNTIME_DIR: '', HOME: '/root' } });
    const roots = (JSON.parse(c.stdout) as { roots?: { state: string; store: string } }).roots;
    expect(roots).toEqual({ state: join(user.home, '.local/share/tsrun/state'), store: join(user.home, '.local/share/tsrun') });
  });

  it('a state root the user cannot write: one line naming the path and the fix, nothing made', async () => {
    const rootOnly = mkdtempSync('/tmp/tsrun-rl-rootonly-');
    chmodSync(rootOnly, 0o755);
    after.push(() => rmSync(rootOnly, { recursive: true, force: true }));
    const bundle = await userBundle(user, 'b-noroot');
    for (const args of [['--root', `${rootOnly}/s`, 'create', '--bundle', bundle, 'c1'], ['--root', '/run/tsrun', 'delete', 'c1']]) {
      const r = await asUser(user, args);
      expect(r.exitCode).not.toBe(0);
      noStack(r.stderr);
      if (args[1] !== '/run/tsrun') {
        expect(r.stderr).toContain(`${rootOnly}/s`);
        expect(r.stderr).toMatch(/EACCES/);
        expect(r.stderr).toMatch(/--root/);
      }
    }
    expect(existsSync(`${rootOnly}/s`)).toBe(false);
  });

  it('an image store the user cannot write: one line naming the path and --store', async () => {
    const r = await asUser(user, ['image', 'import', '--store', '/var/lib/tsrun-rl-nope/x', join(user.work, 'nosuch-layout')]);
    expect(r.exitCode).not.toBe(0);
    noStack(r.stderr);
    const s = await asUser(user, ['image', 'ls', '--store', '/root/store']);
    noStack(s.stderr);
    if (s.exitCode !== 0) expect(s.stderr).toMatch(/\/root\/store.*(--store|EACCES)|EACCES.*\/root\/store/);
  });
});
