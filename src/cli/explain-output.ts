// Prints a bundle's plan without running it: namespaces, id maps, and every step with its reason.
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle } from '../oci/bundle.js';
import { planContainer } from '../container/create.js';
import { describeStep } from '../plan/describe.js';
import { NAMESPACE_ISOLATES, idMapText } from '../namespaces/plan.js';
import type { Plan } from '../plan/types.js';

/** The exact plan `run` would execute (exec fifo and hook pause included), so step numbers match. */
export function planForBundle(dir: string, where: { root: string; id?: string }): Plan {
  const bundle = loadBundle(dir);
  return planContainer(bundle, { foreground: true, fifo: join(where.root, where.id ?? '<id>', 'exec.fifo') });
}

const bigintToString = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v);

export function formatPlanText(plan: Plan): string {
  const lines: string[] = ['namespaces:'];
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
  const plan = planForBundle(dir, where);
  const out = format === 'json'
    ? JSON.stringify({ ...plan, steps: plan.steps.map((s) => ({ title: describeStep(s), ...s })) }, bigintToString, 2) + '\n'
    : formatPlanText(plan);
  writeSync(1, out);
  return 0;
}
