// linux.seccomp → the plan step that installs the filter (entry point of src/seccomp for planners).
import type { Seccomp } from '../oci/types.js';
import type { Step } from '../abi/steps.js';
import { compileProfile } from './compile.js';
import { readProfile } from './profile.js';
import { syscallNumber } from './syscalls.js';

/**
 * The step, for a process with or without no_new_privs: without it, installing a filter needs
 * CAP_SYS_ADMIN, so the step must run before the privilege drop (and the profile must allow the
 * steps after it, as with runc).
 */
export function seccompStep(sc: Seccomp, opts: { beforePrivilegeDrop: boolean }): Step {
  const profile = readProfile(sc);
  const filter = compileProfile(profile);
  const native = profile.arches[0]!;
  const syscalls = [...profile.syscalls.keys()].filter((n) => syscallNumber(native, n) !== undefined).length;
  const when = opts.beforePrivilegeDrop
    ? 'installed before the privilege drop: without process.noNewPrivileges the kernel requires CAP_SYS_ADMIN to install a filter, so the steps after it must be allowed too (as with runc)'
    : 'installed last, after no_new_privs, so as few set-up syscalls as possible run under it; the profile must allow execve';
  const skipped = profile.unknownNames.length
    ? `; skipped (no architecture has them, libseccomp ignores them too): ${profile.unknownNames.join(' ')}`
    : '';
  return {
    op: 'seccomp', flags: profile.flags, program: filter.program.toString('base64'), instructions: filter.instructions, syscalls,
    defaultAction: profile.defaultAction.text, field: 'linux.seccomp',
    why: `the container's syscall filter (${profile.arches.map((a) => a.name).join(' ')}; other ABIs: ${profile.foreignAction.text}), ${when}${skipped}`,
  };
}
