// `tsrun explain --short`: the plan in about thirty lines. Runs of steps that do the same thing for one
// config list (the mounts, the masked paths, the device nodes…) become one line naming what they act
// on; every other step keeps its own line. Each line starts with the step numbers it covers, so the
// full `explain` and --trace can be found from it.
import { describeStep } from '../abi/describe-step.js';
import type { Step } from '../abi/steps.js';

export interface SummaryLine {
  /** First and last step index covered (equal for a single step). */
  from: number;
  to: number;
  text: string;
}

/** Steps that belong together: the same config list, or the same kind of set-up. */
function runKey(s: Step): string | undefined {
  const list = /^(mounts|linux\.readonlyPaths|linux\.maskedPaths|linux\.sysctl|process\.rlimits|linux\.devices)\b/.exec(s.field ?? '')?.[1];
  if (list) return list;
  if (s.op === 'mknod' || s.op === 'symlink') return s.op;
  // The switch to process.user (not the first steps of a new user namespace, which name its id maps).
  if (((s.op === 'setgroups' || s.op === 'setresgid' || s.op === 'setresuid') && s.field?.startsWith('process.user')) || (s.op === 'prctl' && s.name === 'PR_SET_KEEPCAPS')) return 'user';
  return undefined;
}

const unique = (xs: (string | undefined)[]): string[] => [...new Set(xs.filter((x): x is string => x !== undefined))];

/** A run of steps: a verb, what it acts on, and the config list it comes from. */
interface Run { verb: string; items: string[]; field?: string }

function describeRun(key: string, steps: Step[]): Run {
  const items = (pick: (s: Step) => string | undefined): string[] => unique(steps.map(pick));
  switch (key) {
    case 'mounts': return { verb: 'mount', items: items((s) => (s.op === 'mount' ? s.target : undefined)), field: 'mounts' };
    case 'linux.readonlyPaths': return { verb: 'read-only', items: items((s) => (s.op === 'mount' ? s.target : undefined)), field: key };
    case 'linux.maskedPaths': return { verb: 'mask', items: items((s) => (s.op === 'mask' ? s.path : undefined)), field: key };
    case 'linux.sysctl': return { verb: 'sysctl', items: items((s) => (s.op === 'writeFile' ? s.path.replace(/^\/proc\/sys\//, '').replace(/\//g, '.') : undefined)), field: key };
    case 'process.rlimits': return { verb: 'setrlimit', items: items((s) => (s.op === 'setrlimit' ? `${s.name}=${s.soft === 0xffff_ffff_ffff_ffffn ? 'unlimited' : s.soft}` : undefined)), field: key };
    case 'linux.devices': case 'mknod': return { verb: 'mknod', items: items((s) => (s.op === 'mknod' ? s.path : s.op === 'mount' ? s.target : undefined)) };
    case 'symlink': return { verb: 'symlink', items: items((s) => (s.op === 'symlink' ? s.linkpath : undefined)) };
    case 'user': {
      const uid = steps.find((s): s is Extract<Step, { op: 'setresuid' }> => s.op === 'setresuid')?.uid;
      const gid = steps.find((s): s is Extract<Step, { op: 'setresgid' }> => s.op === 'setresgid')?.gid;
      const groups = steps.find((s): s is Extract<Step, { op: 'setgroups' }> => s.op === 'setgroups')?.gids;
      const calls = unique(steps.map((s) => (s.op === 'prctl' ? undefined : s.op)));
      const kept = steps.some((s) => s.op === 'prctl') ? '; capabilities kept across' : '';
      return {
        verb: `become${uid !== undefined ? ` uid ${uid}` : ''}${gid !== undefined ? ` gid ${gid}` : ''}${groups ? `, groups [${groups.join(' ')}]` : ''} (${calls.join(', ')}${kept})`,
        items: [], field: 'process.user',
      };
    }
    default: return { verb: steps.map(describeStep).join('; '), items: [] };
  }
}

/** `verb a b c … (+N)  [field]` in at most `width` columns: items are dropped before the field is. */
function fitRun(r: Run, width: number): string {
  const tag = r.field ? `  [${r.field}]` : '';
  for (let n = r.items.length; n >= 0; n--) {
    const rest = r.items.length - n;
    const text = [r.verb, ...r.items.slice(0, n), ...(rest ? [`… (${rest} more)`] : [])].join(' ');
    if (text.length + tag.length <= width || n === 0) return text.length + tag.length <= width ? text + tag : text;
  }
  return r.verb;
}

/** Columns of a summary line's text (after the step numbers). */
export const SUMMARY_TEXT_WIDTH = 110;

/** The steps as lines: runs collapsed, `rootfs` written as <rootfs>, each text within `width` columns. */
export function summarizeSteps(steps: Step[], rootfs?: string, width = SUMMARY_TEXT_WIDTH): SummaryLine[] {
  const lines: SummaryLine[] = [];
  const short = (t: string): string => (rootfs ? t.split(rootfs).join('<rootfs>') : t);
  for (let i = 0; i < steps.length;) {
    const key = runKey(steps[i]!);
    let j = i + 1;
    if (key !== undefined) while (j < steps.length && runKey(steps[j]!) === key) j++;
    const run = steps.slice(i, j);
    const r: Run = run.length === 1 && key !== 'user'
      ? { verb: short(describeStep(run[0]!)) + (run[0]!.beforeClone ? ' (first stage)' : ''), items: [], ...(run[0]!.field ? { field: run[0]!.field } : {}) }
      : describeRun(key!, run);
    const text = fitRun({ ...r, verb: short(r.verb), items: r.items.map(short) }, width);
    lines.push({ from: i, to: j - 1, text: text.length > width ? `${text.slice(0, width - 1)}…` : text });
    i = j;
  }
  return lines;
}

/** `  5-12  text`. */
export function formatSummaryLine(l: SummaryLine): string {
  const nums = l.from === l.to ? String(l.from) : `${l.from}-${l.to}`;
  return `  ${nums.padStart(5)}  ${l.text}`;
}
