// `exec` into a container without a mount namespace of its own. setns into a mount namespace also
// moves the process to that namespace's root (the container's, after pivot_root); a container without
// one entered its rootfs with chroot, which no namespace carries, so the exec'd process chroots into
// the init's root itself, while still privileged, as the init did. process.cwd follows in the process
// steps, after the user switch. Pure.
import type { Step } from '../abi/steps.js';

/** `initRoot`: a path naming the init's root directory (/proc/self/fd/N of an fd tsrun holds on it). */
export function enterInitRootSteps(initRoot: string): Step[] {
  return [
    { op: 'chdir', path: initRoot, field: 'root.path', why: 'no mount namespace of its own: the container\'s root is the init\'s chroot, held open by tsrun as /proc/<init>/root' },
    { op: 'chroot', path: '.', field: 'root.path', why: 'enter the same root as the container\'s init; joining its namespaces does not change the root' },
    { op: 'chdir', path: '/', why: 'start from the new root' },
  ];
}
