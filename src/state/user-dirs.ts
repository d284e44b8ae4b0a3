// Where tsrun keeps container state and images for the user running it. Root shares one machine-wide
// place (/run/tsrun, /var/lib/tsrun); any other user gets its own, since it can write neither and
// must not see another user's containers: runc's $XDG_RUNTIME_DIR/runc, podman's ~/.local/share.
//
// Decided when a command runs, never when the module loads: the CLI's V8 startup snapshot is built
// as root, and a value computed then would be root's for every user.
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';

export const ROOT_STATE_DIR = '/run/tsrun';
export const ROOT_STORE_DIR = '/var/lib/tsrun';

export interface UserFacts {
  euid: number;
  env: NodeJS.ProcessEnv;
  /** The home directory of euid in the password database. */
  passwdHome(): string;
  /** Owner of a path, or undefined when it cannot be stat'ed. */
  ownerOf(path: string): number | undefined;
}

export const processUser = (): UserFacts => ({
  euid: process.geteuid?.() ?? 0,
  env: process.env,
  passwdHome: () => userInfo().homedir,
  ownerOf: (path) => { try { return statSync(path).uid; } catch { return undefined; } },
});

/**
 * The user's home: $HOME when it is the user's own; otherwise (setpriv, sudo -u and su keep the
 * caller's $HOME, typically /root) the password database's.
 */
function homeOf(facts: UserFacts): string {
  const home = facts.env.HOME;
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
  if (facts.euid === 0) return ROOT_STATE_DIR;
  const runtime = facts.env.XDG_RUNTIME_DIR;
  if (runtime && isAbsolute(runtime)) return join(runtime, 'tsrun');
  return join(dataHome(facts), 'tsrun/state');
}

/** The default image store: /var/lib/tsrun for root, ~/.local/share/tsrun (or $XDG_DATA_HOME/tsrun) otherwise. */
export function defaultStoreDir(facts: UserFacts = processUser()): string {
  return facts.euid === 0 ? ROOT_STORE_DIR : join(dataHome(facts), 'tsrun');
}
