// What a user other than root gets from this host: where its containers' state and images go, and
// which of the three cgroup cases applies (src/cgroups/rootless.ts): a delegated subtree, where limits
// work; none, where containers run without a cgroup of their own and limits are refused.
import type { Delegation } from '../cgroups/rootless.js';
import { item, withFacts, type CheckItem } from './report.js';

export function dirsItem(roots: { state: string; store: string }): CheckItem {
  return item('privileges', 'dirs', 'ok', `containers' state goes to ${roots.state} (--root), images to ${roots.store} (image --store)`);
}

/** Only for a user: root makes cgroups wherever a config says. */
export function delegationItem(euid: number, delegation: Delegation | undefined, controllers: string[]): CheckItem | undefined {
  if (euid === 0) return undefined;
  if (delegation === undefined) {
    return item('cgroups', 'delegation', 'warn', 'no cgroup v2 hierarchy: rootless containers run without a cgroup; configs with linux.resources limits are refused');
  }
  if (delegation.delegated) {
    return withFacts(item('cgroups', 'delegation', 'ok',
      `the cgroup tree from ${delegation.root} is delegated to uid ${euid}: containers go to ${delegation.root}/tsrun/<id>; limits work for ${controllers.length > 0 ? controllers.join(', ') : 'no controller (none enabled for it)'}`),
    { delegated: true, root: delegation.root, controllers });
  }
  return withFacts(item('cgroups', 'delegation', 'warn',
    `no cgroup subtree is delegated to uid ${euid} (${delegation.reason}): containers run without a cgroup of their own, and configs with linux.resources limits are refused`,
    'for limits: run tsrun as root, or delegate a subtree (systemd Delegate=yes, as user@UID.service has; or chown a cgroup directory and its cgroup.procs, cgroup.subtree_control, cgroup.threads to the user and start tsrun inside it)'),
  { delegated: false });
}

/**
 * Only for a user: whether `--network slirp4netns` can work here. `program`: slirp4netns found on
 * PATH, or the one-line problem (not on PATH, /dev/net/tun missing or not the user's to open).
 */
export function userNetworkItem(euid: number, found: { program: string } | { problem: string }): CheckItem | undefined {
  if (euid === 0) return undefined;
  if ('program' in found) return item('privileges', 'user-mode network', 'ok', `--network slirp4netns works: ${found.program}, /dev/net/tun usable (-p publishes ports through it)`);
  return item('privileges', 'user-mode network', 'warn', `--network slirp4netns cannot work: ${found.problem.replace(/^--network slirp4netns: /, '')}`, 'containers still run with --network none (lo only) or host');
}
