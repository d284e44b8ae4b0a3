// Rules of validateSpec that keep a config from asking for what tsrun cannot do safely (issue 12's
// audit; docs/security.md): confinement it would not apply, and more strings than its plan carries.
// `fail` is validateSpec's, so errors name the field and the file like every other rule.
import type { Hook, Spec } from './types.js';

type Fail = (field: string, problem: string) => never;

export function checkSecurityRules(spec: Spec, fail: Fail): void {
  checkNoLsmConfinement(spec, fail);
  checkExecStringCounts(spec, fail);
}

// tsrun applies no AppArmor profile and no SELinux label. Accepting one would run the container less
// confined than its config says (runc refuses them where the LSM is off; tsrun is always in that
// case). "unconfined" asks for nothing.
function checkNoLsmConfinement(spec: Spec, fail: Fail): void {
  const profile = spec.process?.apparmorProfile;
  if (profile !== undefined && profile !== '' && profile !== 'unconfined') {
    fail('process.apparmorProfile', `tsrun does not apply AppArmor profiles, so the container would run without ${JSON.stringify(profile)}; remove the field (or use "unconfined")`);
  }
  if (spec.process?.selinuxLabel) fail('process.selinuxLabel', 'tsrun does not apply SELinux labels, so the container would run without it; remove the field');
  if (spec.linux?.mountLabel) fail('linux.mountLabel', 'tsrun does not apply SELinux labels, so the container\'s mounts would not get it; remove the field');
}

/**
 * The plan counts a step's strings in 16 bits, and an exec step carries argv and the environment
 * (and a hook's path): more than that used to wrap, and the shim read the rest as further steps
 * (CVE-2021-43784 in runc's nsexec). The encoder refuses it too; this names the field first.
 */
const MAX_STEP_STRINGS = 0xffff;
function checkExecStringCounts(spec: Spec, fail: Fail): void {
  const check = (args: readonly string[] | undefined, env: readonly string[] | undefined, at: string, path: number): void => {
    const n = (args?.length ?? 0) + (env?.length ?? 0);
    if (n + path <= MAX_STEP_STRINGS) return;
    const field = (env?.length ?? 0) >= (args?.length ?? 0) ? `${at}.env` : `${at}.args`;
    fail(field, `${at}.args and ${at}.env hold ${n} entries together; tsrun passes at most ${MAX_STEP_STRINGS - path} (${MAX_STEP_STRINGS} strings per step of its plan)`);
  };
  if (spec.process) check(spec.process.args, spec.process.env, 'process', 0);
  for (const [phase, hooks] of Object.entries(spec.hooks ?? {}) as [string, Hook[] | undefined][]) {
    (hooks ?? []).forEach((h, i) => check(h.args, h.env, `hooks.${phase}[${i}]`, 1));
  }
}
