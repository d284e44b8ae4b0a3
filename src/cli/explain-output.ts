// Prints a bundle's plan without running it: namespaces, id maps, and every step with its reason.
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle, type Bundle } from '../oci/bundle.js';
import { planBundle } from '../plan/bundle-plan.js';
import { detectCgroupHost, planCgroupForCaller } from '../cgroups/index.js';
import type { Spec } from '../oci/types.js';
import { describeStep, droppedFromBounding } from '../abi/describe-step.js';
import { formatSummaryLine, summarizeSteps } from '../plan/summary.js';
import { disassemble } from '../seccomp/disasm.js';
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
    const plan = planCgroupForCaller(spec, '<id>', detectCgroupHost(), () => {});
    if (!plan) return ['cgroup: none of its own (tsrun is not root and no cgroup v2 subtree is delegated to it, and the config asks for no limit: the container stays in tsrun\'s cgroup; see tsrun check)'];
    const lines = [`cgroup ${plan.dir} (made by the parent before clone; the process is born inside it):`];
    for (const w of plan.writes) lines.push(`  write ${JSON.stringify(w.value)} to ${w.file}  [${w.field}]`);
    if (plan.deviceRules) lines.push(`  attach a device program of ${plan.deviceRules.length} rules  [linux.resources.devices]`);
    return lines;
  } catch (err) {
    return [`cgroup: run would refuse this config: ${(err as Error).message}`];
  }
}

/** Words, wrapped at `width` columns, each line after the first indented by `indent`. */
export function wrapWords(words: string[], width: number, indent: string, first = ''): string[] {
  const out: string[] = [];
  let line = first;
  for (const w of words) {
    if (line.trim() !== '' && line.length + 1 + w.length > width) { out.push(line); line = indent; }
    line += (line.trim() === '' ? '' : ' ') + w;
  }
  if (line.trim() !== '') out.push(line);
  return out;
}

/** The one-line-per-step view (`explain --short`): ~30 lines for the sample bundle. */
export function formatPlanShort(plan: Plan, spec?: Spec, rootfs?: string): string {
  const lines: string[] = [];
  if (spec) lines.push(cgroupSummary(spec));
  const created = plan.namespaces.filter((n) => n.action === 'create').map((n) => n.type);
  const joined = plan.namespaces.filter((n) => n.action === 'join').map((n) => `${n.type} (${n.path})`);
  lines.push(`namespaces: ${[created.length ? `new ${created.join(' ')}` : '', joined.length ? `join ${joined.join(' ')}` : ''].filter(Boolean).join('; ') || 'none'}`);
  if (plan.idMaps) lines.push(`id maps: uid ${idMapText(plan.idMaps.uid).trim().replace(/\n/g, ', ')}; gid ${idMapText(plan.idMaps.gid).trim().replace(/\n/g, ', ')}`);
  if (rootfs) lines.push(`rootfs: ${rootfs}`);
  lines.push(`steps (${plan.steps.length}; \`tsrun explain\` gives each one's reason, \`run --trace\` its result):`);
  lines.push(...summarizeSteps(plan.steps, rootfs).map((l) => formatSummaryLine(l)));
  return lines.join('\n') + '\n';
}

/** The cgroup in one line: where, how many files written, the device program. */
function cgroupSummary(spec: Spec): string {
  try {
    const plan = planCgroupForCaller(spec, '<id>', detectCgroupHost(), () => {});
    if (!plan) return 'cgroup: none of its own (not root, nothing delegated, no limit asked)';
    const parts = [plan.writes.length ? `${plan.writes.length} limit files (${plan.writes.map((w) => w.file).join(' ')})` : 'no limits',
      ...(plan.deviceRules ? [`a device program of ${plan.deviceRules.length} rules`] : [])];
    return `cgroup ${plan.dir}: ${parts.join(', ')}`;
  } catch (err) {
    return `cgroup: run would refuse this config: ${(err as Error).message}`;
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
  lines.push(plan.steps.some((s) => s.beforeClone)
    ? 'steps (in order; those marked "first stage" run in tsrun-init before it clones the container process, the rest in it):'
    : 'steps (run by the container process, in order):');
  plan.steps.forEach((s, i) => {
    lines.push(`  ${String(i).padStart(3)}  ${describeStep(s)}${s.field ? `  [${s.field}]` : ''}${s.beforeClone ? '  (first stage, before the clone)' : ''}`);
    if (s.op === 'bounding') {
      const dropped = droppedFromBounding(s);
      if (dropped.length) lines.push(...wrapWords(dropped, 100, '         ', '       dropped:'));
    }
    if (s.op === 'seccomp') lines.push(`       a classic BPF program of ${s.instructions} instructions, ${s.instructions * 8} bytes (\`tsrun explain --seccomp\` prints it)`);
    lines.push(`       ${s.why}`);
  });
  return lines.join('\n') + '\n';
}

export interface ExplainOptions {
  /** One line per step, runs of alike steps as one line. */
  short?: boolean;
  /** The seccomp filter, disassembled, instead of the plan. */
  seccomp?: boolean;
  /** --network / -p: the spec as they change it, and the lines that say what CNI will do (src/network/explain.ts). */
  network?: { spec: (spec: Spec) => Spec; text: string[]; json: unknown };
}

export function explainBundle(dir: string, format: 'text' | 'json', where: { root: string; id?: string }, opts: ExplainOptions = {}): number {
  const loaded = loadBundle(dir);
  const bundle = opts.network ? { ...loaded, spec: opts.network.spec(loaded.spec) } : loaded;
  const plan = planForBundle(bundle, where);
  const spec = bundle.spec;
  if (opts.seccomp) {
    writeSync(1, formatSeccomp(plan, join(bundle.dir, 'config.json'), format));
    return 0;
  }
  const out = format === 'json'
    ? JSON.stringify({ ...plan, steps: plan.steps.map((s) => ({ title: describeStep(s), ...s })), ...(opts.network ? { network: opts.network.json } : {}) }, bigintToString, 2) + '\n'
    : (opts.short ? formatPlanShort(plan, spec, bundle.rootfs) : formatPlanText(plan, spec)) + (opts.network?.text.length ? `\n${opts.network.text.join('\n')}\n` : '');
  writeSync(1, out);
  return 0;
}

/**
 * `explain --seccomp`: the filter the container would get, as the kernel will run it, one instruction a
 * line with its meaning (JSON: the instructions with their text).
 */
export function formatSeccomp(plan: Plan, configPath: string, format: 'text' | 'json'): string {
  const step = plan.steps.find((s): s is Extract<Plan['steps'][number], { op: 'seccomp' }> => s.op === 'seccomp');
  if (!step) {
    return format === 'json' ? JSON.stringify({ seccomp: null }) + '\n'
      : `no linux.seccomp in ${configPath}: the container's syscalls are not filtered\n`;
  }
  const program = Buffer.from(step.program, 'base64');
  const lines = disassemble(program);
  if (format === 'json') {
    return JSON.stringify({ instructions: step.instructions, bytes: program.length, defaultAction: step.defaultAction, flags: step.flags, program: lines.map((l) => l.trim()) }, null, 2) + '\n';
  }
  const index = plan.steps.indexOf(step);
  return [
    `seccomp filter of ${configPath} (linux.seccomp), installed by step ${index}:`,
    `  ${step.instructions} instructions of classic BPF (${program.length} bytes, 8 per instruction; the kernel allows 4096),`,
    `  ${step.syscalls} syscalls with a rule, default action ${step.defaultAction}${step.flags ? `, seccomp(2) flags 0x${step.flags.toString(16)}` : ''}.`,
    '  The kernel runs it on every syscall, over struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }:',
    '  A is the accumulator; jt/jf are the instructions to go to when the test is true/false; the first ret reached decides.',
    '',
    '   pc  instruction                       meaning',
    ...lines,
    '',
  ].join('\n');
}
