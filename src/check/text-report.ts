// The report for people: grouped by area, one aligned line per item, the fix under it, and a verdict.
// Colour only helps the eye find the warnings, so it is off whenever output is not a terminal.
import { CHECK_AREAS, type CheckItem, type CheckReport, type CheckStatus } from './report.js';

export interface TextReportOptions {
  color: boolean;
  /** Wrap long details at this many columns (hanging indent keeps the columns aligned). */
  width: number;
}

const STATUS_COLOR: Record<CheckStatus, string> = { ok: '32', warn: '33', missing: '31' };

/** https://no-color.org: any non-empty NO_COLOR turns colour off; so does a non-terminal. */
export function shouldUseColor(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return isTTY === true && (env.NO_COLOR ?? '') === '';
}

function paint(text: string, code: string, color: boolean): string {
  return color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** Greedy word wrap; every line after the first is indented by `indent` spaces. */
export function wrap(text: string, width: number, indent: number): string {
  const room = Math.max(20, width - indent);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join('\n' + ' '.repeat(indent));
}

function formatItem(it: CheckItem, nameWidth: number, opts: TextReportOptions): string {
  const status = paint(it.status.padEnd(7), STATUS_COLOR[it.status], opts.color);
  const indent = 2 + 8 + nameWidth + 2;
  let out = `  ${status} ${it.name.padEnd(nameWidth)}  ${wrap(it.detail, opts.width, indent)}\n`;
  if (it.fix !== undefined) out += `${' '.repeat(indent)}${paint('fix:', '1', opts.color)} ${wrap(it.fix, opts.width, indent + 5)}\n`;
  return out;
}

function verdict(report: CheckReport, opts: TextReportOptions): string {
  const warn = report.items.filter((i) => i.status !== 'ok').length;
  if (report.canRunContainers) {
    const tail = warn === 0 ? 'everything tsrun uses is here.' : `${warn} item${warn === 1 ? '' : 's'} above cost features, not the ability to run.`;
    return `${paint('tsrun can run containers on this host', '32;1', opts.color)}: ${tail}\n`;
  }
  return `${paint('tsrun cannot run containers on this host', '31;1', opts.color)}:\n${report.blockers.map((b) => `  - ${b}\n`).join('')}`;
}

export function formatTextReport(report: CheckReport, opts: TextReportOptions): string {
  const nameWidth = Math.max(...report.items.map((i) => i.name.length));
  let out = `tsrun check: what this host (Linux ${report.kernel}) can do for containers, and why\n`;
  for (const area of CHECK_AREAS) {
    const items = report.items.filter((i) => i.area === area);
    if (items.length === 0) continue;
    out += `\n${paint(area, '1', opts.color)}\n`;
    for (const it of items) out += formatItem(it, nameWidth, opts);
  }
  return `${out}\n${verdict(report, opts)}`;
}
