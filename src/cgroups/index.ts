// The cgroup v2 driver's public API. Typical use by the container code:
//   const host = detectCgroupHost();
//   const plan = planCgroup(spec, id, host);      // refuses unsupported limits; creates nothing
//   const cg = applyCgroup(plan);                 // mkdir, controllers, limits, device program
//   const fd = cg.openDirFd();                    // → clone3(CLONE_INTO_CGROUP); or cg.addProcess(pid)
//   With --systemd-cgroup, `await cgroupDriver(true)` plans and applies instead: its handle is not
//   bornInside, and `await cg.place(pid)` has systemd make the scope with the waiting process.
//   …                                             // cg.freeze()/thaw()/kill()/stats()/oomKilled()
//   await cg.kill(); await cg.destroy();
export type { CgroupHost, CgroupPlan, DeviceRule, FileWrite } from './types.js';
export type { CgroupHandle } from './manager.js';
export type { CgroupStats, IoDeviceStats } from './stats.js';
export { CgroupError } from './errors.js';
export { detectCgroupHost } from './host.js';
export { planCgroup, planDeviceRules, describeHost } from './plan.js';
export { applyCgroup, loadCgroup, attachDeviceRules, replaceDeviceRules, type CgroupWriteObserver } from './manager.js';
export { cgroupDriver, cgroupfsDriver, loadContainerCgroup, type CgroupDriver, type CgroupRef } from './driver.js';
export { DEFAULT_ALLOWED_DEVICES, type DefaultDevice } from './devices/rules.js';
export { deviceProgram } from './devices/program.js';
export { resolveCgroupPath, TSRUN_SUBTREE } from './path.js';
export { findDelegation, hostDelegation, isHostRoot, ownCgroupPath, planCgroupForCaller, planRootlessCgroup, thisCaller, type CgroupCaller, type Delegation } from './rootless.js';
