// Prints a bundle's plan without running it: namespaces, id maps, and every step with its reason.
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle, type Bundle } from '../oci/bundle.js';
import { planBundle } from '../plan/bundle-plan.js';
import { detectCgroupHost, planCgroup } from '../cgroups/index.js';
import type { Spec } from '../oci/types.js';
import { describeStep } from '../abi/describe-step.js';
import { NAMESPACE_ISOLATES, idMapText } from '../abi/namespaces.js';
import type { Plan } from '../abi/steps.js';

/** The exact plan `run` would execute (exec fifo and hook pause included), so step numbers match. */
export function planForBundle(bundle: Bundle, where: { root: string; id?: string }): Plan {
  // The plan of `tsrun run`, which starts the container itself (no exec fifo).
  return planBundle(bundle, { foreground: true, startGate: 'caller', keyring: where.id ?? '<id>' });
}

const bigintToString = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v);

/** The cgroup files `run` would write, or why it would refuse (a controller this host lacks). */
function cgroupLines(spec: Spec): string[] {
  try {
    const plan = planCgroup(spec, '<id>', detectCgroupHost());
    const lines = [`cgroup ${plan.dir} (made by the parent before clone; the process is born inside it):`];
    for (const w of plan.writes) lines.push(`  write ${JSON.stringify(w.value)} to ${w.file}  [${w.field}]`);
    if (plan.deviceRules) lines.push(`  attach a device program of ${plan.deviceRules.length} rules  [linux.resources.devices]`);
    return lines;
  } catch (err) {
    return [`cgroup: run would refuse this config: ${(err as Error).message}`];
  }
}

export function formatPlanText(plan: Plan, spec?: Spec): string {
  const lines: string[] = [...(spec ? cgroupLines(spec) : []), 'namespaces:'];
  for (const n of plan.namespaces) {
    lines.push(`  ${n.action === 'create' ? 'new ' : 'join'} ${n.type.padEnd(8)}${n.path ? ` ${n.path}` : ''}  — isolates ${NAMESPACE_ISOLATES[n.type]}`);
  }
  if (plan.idMaps) {
    lines.push('id maps (written by the parent while the child waits):');
    lines.push(...idMapText(plan.idMaps.uid).trim().split('\n').map((l) => `  uid_map: ${l}`));
    lines.push(...idMapText(plan.idMaps.gid).trim().split('\n').map((l) => `  gid_map: ${l}`));
  }
  lines.push('steps (run by the container process, in order):');
  plan.steps.forEach((s, i) => {
    lines.push(`  ${String(i).padStart(3)}  ${describeStep(s)}${s.field ? `  [${s.field}]` : ''}`);
    lines.push(`       ${s.why}`);
  });
  return lines.join('\n') + '\n';
}

export function explainBundle(dir: string, format: 'text' | 'json', where: { root: string; id?: string }): number {
  const bundle = loadBundle(dir);
  const plan = planForBundle(bundle, where);
  const spec = bundle.spec;
  const out = format === 'json'
    ? JSON.stringify({ ...plan, steps: plan.steps.map((s) => ({ title: describeStep(s), ...s })) }, bigintToString, 2) + '\n'
    : formatPlanText(plan, spec);
  writeSync(1, out);
  return 0;
}
