// The process half of the plan: keyring, identity (hostname), limits, terminal, then the privilege
// drop in the only order that works — bounding set while still privileged, keep capabilities across
// the uid change, switch groups and user, set the final capability sets, no_new_privs — then exec.
// Pure.
import { ConfigError } from '../errors.js';
import type { Process, Seccomp, Spec } from '../oci/types.js';
import { RLIMITS } from '../abi/rlimits.js';
import { PR, RLIM_INFINITY } from '../abi/linux.js';
import type { Step } from '../abi/steps.js';
import { seccompStep } from '../seccomp/step.js';
import { capabilityMask, capabilityNames } from '../abi/capabilities.js';

export interface ProcessContext {
  /** Size of the caller's terminal, used when process.terminal is true. */
  consoleSize?: { rows: number; cols: number };
  /** setgroups(2) is allowed (false in an unprivileged user namespace, where it is denied). */
  setgroupsAllowed: boolean;
  /** linux.seccomp of the container (exec'd processes get it too, as with runc). */
  seccomp?: Seccomp;
}

/** rlimit values above 2^63 (e.g. 18446744073709551615 in JSON) mean "unlimited". */
function rlimitValue(v: number): bigint {
  return v >= 2 ** 63 || v < 0 ? RLIM_INFINITY : BigInt(Math.floor(v));
}

/** A session keyring of its own (runc's default); none when `name` is undefined (--no-new-keyring). */
export function keyringSteps(name: string | undefined): Step[] {
  if (name === undefined) return [];
  return [{ op: 'newKeyring', name, why: 'a session keyring of its own: the container cannot use the caller\'s keys (runc does the same; --no-new-keyring keeps the caller\'s)' }];
}

export function identitySteps(spec: Spec): Step[] {
  const steps: Step[] = [];
  if (spec.hostname !== undefined) steps.push({ op: 'sethostname', name: spec.hostname, field: 'hostname', why: 'the UTS namespace gives the container its own hostname' });
  if (spec.domainname !== undefined) steps.push({ op: 'setdomainname', name: spec.domainname, field: 'domainname', why: 'the UTS namespace gives the container its own NIS domain name' });
  return steps;
}

/** Steps that need /proc of the host still mounted (before pivot_root). */
export function earlyProcessSteps(proc: Process): Step[] {
  if (proc.oomScoreAdj === undefined) return [];
  return [{ op: 'writeFile', path: '/proc/self/oom_score_adj', content: String(proc.oomScoreAdj), field: 'process.oomScoreAdj', why: 'how likely the OOM killer picks this process; inherited by its children' }];
}

function limitSteps(proc: Process): Step[] {
  return (proc.rlimits ?? []).map((r, i): Step => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new ConfigError(`process.rlimits[${i}].type`, `unknown rlimit ${r.type}`);
    return { op: 'setrlimit', resource, name: r.type, soft: rlimitValue(r.soft), hard: rlimitValue(r.hard), field: `process.rlimits[${i}]`, why: 'a per-process resource limit, inherited across exec' };
  });
}

function terminalSteps(proc: Process, ctx: ProcessContext): Step[] {
  if (!proc.terminal) {
    return [{ op: 'setsid', why: 'a new session: terminal signals from the caller\'s terminal go to tsrun, which forwards them once' }];
  }
  const size = proc.consoleSize ? { rows: proc.consoleSize.height, cols: proc.consoleSize.width } : ctx.consoleSize ?? { rows: 0, cols: 0 };
  return [{
    op: 'console', rows: size.rows, cols: size.cols, uid: proc.user.uid, gid: proc.user.gid, field: 'process.terminal',
    why: 'a pty from the container\'s own devpts becomes its controlling terminal; the master goes to tsrun',
  }];
}

function privilegeSteps(proc: Process, ctx: ProcessContext): Step[] {
  const caps = proc.capabilities;
  const steps: Step[] = [];
  // Without no_new_privs only a process with CAP_SYS_ADMIN may install a filter: do it while it has it.
  if (ctx.seccomp && !proc.noNewPrivileges) steps.push(seccompStep(ctx.seccomp, { beforePrivilegeDrop: true }));
  if (caps) {
    const keep = capabilityMask(caps.bounding);
    steps.push({ op: 'bounding', keep, keepNames: capabilityNames(keep), field: 'process.capabilities.bounding', why: 'the bounding set caps what any later exec can ever gain: drop the rest while still privileged' });
    steps.push({ op: 'prctl', option: PR.SET_KEEPCAPS, name: 'PR_SET_KEEPCAPS', args: [1, 0, 0, 0], why: 'keep permitted capabilities across the switch away from uid 0' });
  }
  const user = proc.user;
  if (ctx.setgroupsAllowed) {
    steps.push({ op: 'setgroups', gids: user.additionalGids ?? [], field: 'process.user.additionalGids', why: 'replace the supplementary groups inherited from tsrun' });
  }
  steps.push({ op: 'setresgid', gid: user.gid, field: 'process.user.gid', why: 'switch group before user: after setuid we could no longer change it' });
  steps.push({ op: 'setresuid', uid: user.uid, field: 'process.user.uid', why: 'become the configured user' });
  if (caps) {
    steps.push({ op: 'prctl', option: PR.SET_KEEPCAPS, name: 'PR_SET_KEEPCAPS', args: [0, 0, 0, 0], why: 'the next exec behaves normally again' });
    steps.push({
      op: 'capset', effective: capabilityMask(caps.effective), permitted: capabilityMask(caps.permitted), inheritable: capabilityMask(caps.inheritable),
      field: 'process.capabilities', why: 'the final capability sets: everything not listed is dropped',
    });
    if (caps.ambient?.length) steps.push(ambientStep(caps));
  }
  if (proc.noNewPrivileges) {
    steps.push({ op: 'prctl', option: PR.SET_NO_NEW_PRIVS, name: 'PR_SET_NO_NEW_PRIVS', args: [1, 0, 0, 0], field: 'process.noNewPrivileges', why: 'setuid binaries and file capabilities can no longer raise privileges' });
  }
  return steps;
}

/**
 * The kernel raises an ambient capability only if it is also permitted and inheritable. `runc spec`
 * lists ambient capabilities without inheritable ones and runc ignores the failure silently; tsrun
 * raises what the kernel allows and names what it left out, so the config stays runnable and honest.
 */
function ambientStep(caps: NonNullable<Process['capabilities']>): Step {
  const wanted = capabilityMask(caps.ambient);
  const raise = wanted & capabilityMask(caps.permitted) & capabilityMask(caps.inheritable);
  const left = capabilityNames(wanted & ~raise);
  const note = left.length ? `; not raised (not in both permitted and inheritable): ${left.join(' ')}` : '';
  return {
    op: 'ambient', raise, names: capabilityNames(raise), field: 'process.capabilities.ambient',
    why: `ambient capabilities survive exec of a program without file capabilities${note}`,
  };
}

/** Steps from the limits to the last before exec: terminal, privilege drop, umask, cwd, seccomp. */
export function processSteps(proc: Process, ctx: ProcessContext): Step[] {
  return [
    ...limitSteps(proc),
    ...terminalSteps(proc, ctx),
    ...privilegeSteps(proc, ctx),
    { op: 'umask', mask: proc.user.umask ?? 0o022, field: 'process.user.umask', why: 'set-up ran with umask 0; the process gets the configured one' },
    { op: 'chdir', path: proc.cwd, field: 'process.cwd', why: 'after the user switch, so the directory is checked with the user\'s permissions' },
    ...(ctx.seccomp && proc.noNewPrivileges ? [seccompStep(ctx.seccomp, { beforePrivilegeDrop: false })] : []),
  ];
}

export type ExecStep = Extract<Step, { op: 'exec' }>;

/** The last step: the container's program replaces the set-up process. */
export function execStep(proc: Process): ExecStep {
  if (!proc.args || proc.args.length === 0) throw new ConfigError('process.args', 'must name the program to run');
  return { op: 'exec', args: proc.args, env: proc.env ?? [], field: 'process.args', why: 'replace the set-up process with the container\'s program; the sync socket closes on exec' };
}
