// `tsrun check` as a library: gather the host's facts, probe them, render the report.
import { buildReport } from './build-report.js';
import { gatherHostFacts } from './host-facts.js';
import type { CheckReport } from './report.js';
import { delegationItem, dirsItem, userNetworkItem } from './rootless.js';
import { userSystemdItem } from './user-systemd.js';
import { controllersOf, detectCgroupHost } from '../cgroups/host.js';
import { hostDelegation } from '../cgroups/rootless.js';
import { defaultStateRoot, defaultStoreDir } from '../state/user-dirs.js';

export type { CheckArea, CheckItem, CheckReport, CheckStatus } from './report.js';
export type { HostFacts } from './host-facts.js';
export { buildReport, findBlockers } from './build-report.js';
export { gatherHostFacts } from './host-facts.js';
export { formatTextReport, shouldUseColor, type TextReportOptions } from './text-report.js';
export { formatJsonReport } from './json-report.js';

/** Checks the host this process runs on, for the user running it. */
export async function checkHost(): Promise<CheckReport> {
  const report = buildReport(await gatherHostFacts());
  const roots = { state: defaultStateRoot(), store: defaultStoreDir() };
  const euid = process.geteuid?.() ?? 0;
  const extra = [dirsItem(roots)];
  if (euid !== 0) {
    const host = (() => { try { return detectCgroupHost(); } catch { return undefined; } })();
    const delegation = host ? hostDelegation(host.mountPoint, euid) : undefined;
    const controllers = delegation?.delegated ? controllersOf(delegation.root) : [];
    const it = delegationItem(euid, delegation, controllers);
    if (it) extra.push(it);
    // --systemd-cgroup's case: the user's own manager, as the driver would find it.
    const [{ probeUserManager, userName }, { ownHostUid }] = await Promise.all([import('./user-systemd-probe.js'), import('../cgroups/systemd/bus.js')]);
    const uid = ownHostUid();
    const manager = userSystemdItem(euid, uid, await probeUserManager(host?.mountPoint), userName(uid));
    if (manager) extra.push(manager);
    const { userModeProgram } = await import('../network/user-mode/preflight.js');
    const net = userNetworkItem(euid, (() => { try { return { program: userModeProgram() }; } catch (err) { return { problem: (err as Error).message }; } })());
    if (net) extra.push(net);
  }
  return { ...report, items: [...report.items, ...extra], roots };
}

