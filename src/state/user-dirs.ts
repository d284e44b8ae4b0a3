// Where tsrun keeps container state and images for the user running it. Root shares one machine-wide
// place (/run/tsrun, /var/lib/tsrun); any other user gets its own, since it can write neither and
// must not see another user's containers: runc's $XDG_RUNTIME_DIR/runc, podman's ~/.local/share.
//
// Decided when a command runs, never when the module loads: the CLI's V8 startup snapshot is built
// as root, and a value computed then would be root's for every user.
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { isInitialUserNamespace } from '../host/user-namespace.js';

export { isInitialUserNamespace };

export const ROOT_STATE_DIR = '/run/tsrun';
export const ROOT_STORE_DIR = '/var/lib/tsrun';

export interface UserFacts {
  euid: number;
  /** True when this process's user namespace is the host's (uid_map "0 0 4294967295"). */
  initialUserNamespace(): boolean;
  env: NodeJS.ProcessEnv;
  /** The home directory of euid in the password database. */
  passwdHome(): string;
  /** Owner of a path, or undefined when it cannot be stat'ed. */
  ownerOf(path: string): number | undefined;
}

export const processUser = (): UserFacts => ({
  euid: process.geteuid?.() ?? 0,
  initialUserNamespace: () => isInitialUserNamespace(),
  env: process.env,
  passwdHome: () => userInfo().homedir,
  ownerOf: (path) => { try { return statSync(path).uid; } catch { return undefined; } },
});

/**
 * The host's root: uid 0 in the host's user namespace. Uid 0 in another one (podman runs its
 * runtime as root of the user's rootless namespace; a container) is a user for tsrun's places and
 * cgroups, as runc decides: it honours $XDG_RUNTIME_DIR there unless $USER is root.
 */
export function isHostRoot(facts: UserFacts = processUser()): boolean {
  if (facts.euid !== 0) return false;
  if (facts.initialUserNamespace()) return true;
  return !facts.env.XDG_RUNTIME_DIR || facts.env.USER === 'root';
}

/**
 * The user's home: $HOME when it is the user's own; otherwise (setpriv, sudo -u and su keep the
 * caller's $HOME, typically /root) the password database's.
 */
function homeOf(facts: UserFacts): string {
  const home = facts.env.HOME;
  // (Uid 0 of a user's namespace owns the user's home: its uid maps to 0 there.)
  if (home && isAbsolute(home) && facts.ownerOf(home) === facts.euid) return home;
  return facts.passwdHome();
}

/** ~/.local/share (or $XDG_DATA_HOME) of a user other than root. */
function dataHome(facts: UserFacts): string {
  const xdg = facts.env.XDG_DATA_HOME;
  return xdg && isAbsolute(xdg) ? xdg : join(homeOf(facts), '.local/share');
}

/**
 * The default state root: /run/tsrun for root; $XDG_RUNTIME_DIR/tsrun for another user (a tmpfs of
 * its own that logind empties at logout, as runc's); without one (su, cron, a container),
 * ~/.local/share/tsrun/state, which the user owns however it logged in.
 */
export function defaultStateRoot(facts: UserFacts = processUser()): string {
  if (isHostRoot(facts)) return ROOT_STATE_DIR;
  const runtime = facts.env.XDG_RUNTIME_DIR;
  if (runtime && isAbsolute(runtime)) return join(runtime, 'tsrun');
  return join(dataHome(facts), 'tsrun/state');
}

/** The default image store: /var/lib/tsrun for root, ~/.local/share/tsrun (or $XDG_DATA_HOME/tsrun) otherwise. */
export function defaultStoreDir(facts: UserFacts = processUser()): string {
  return isHostRoot(facts) ? ROOT_STORE_DIR : join(dataHome(facts), 'tsrun');
}
