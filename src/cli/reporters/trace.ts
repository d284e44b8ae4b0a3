// Two reporters for the same trace events (vitest-style pluggable reporters): grouped, aligned text
// for people, one JSON object per line for machines. Both write to stderr so stdout stays the
// container's.
import { writeSync } from 'node:fs';
import type { TraceEvent, TraceSink } from '../../process/trace.js';

/** man7.org section of the pages --trace refers to (syscalls are section 2; the overviews are 7). */
const SECTION_7 = new Set(['namespaces', 'capabilities', 'cgroups', 'cgroup_namespaces']);

export function manPage(syscall: string): { ref: string; url: string } {
  // pid_namespaces(7), user_namespaces(7)…: one overview page per namespace kind.
  const section = SECTION_7.has(syscall) || syscall.endsWith('_namespaces') ? 7 : 2;
  return { ref: `${syscall}(${section})`, url: `https://man7.org/linux/man-pages/man${section}/${syscall}.${section}.html` };
}

export function textTraceReporter(opts: { colour?: boolean } = {}): TraceSink {
  const colour = opts.colour ?? (process.stderr.isTTY && !process.env.NO_COLOR);
  const paint = (code: number, s: string): string => (colour ? `\x1b[${code}m${s}\x1b[0m` : s);
  // On a terminal the man page reference is a link (OSC 8); elsewhere plain text.
  const link = (ref: string, url: string): string => (colour ? `\x1b]8;;${url}\x1b\\${ref}\x1b]8;;\x1b\\` : ref);
  let group: string | undefined;
  return {
    event(e: TraceEvent) {
      if (e.group && e.group !== group) {
        group = e.group;
        writeSync(2, paint(1, `── ${group} ${'─'.repeat(Math.max(0, 60 - group.length))}`) + '\n');
      }
      const ok = e.result === 'ok' || e.result === 'exec' || e.result === 'waiting' || e.result.startsWith('skipped');
      const where = e.who === 'parent' ? 'parent' : `step ${String(e.step).padStart(2)}`;
      const time = e.durationMs !== undefined ? `${e.durationMs.toFixed(3).padStart(8)}ms` : ' '.repeat(10);
      const result = paint(ok ? 32 : 31, e.result.padEnd(7));
      const field = e.field ? paint(36, ` [${e.field}]`) : '';
      const man = e.syscall ? (() => { const m = manPage(e.syscall); return paint(2, `  ${link(m.ref, m.url)}`); })() : '';
      const why = e.why ? paint(2, `\n${' '.repeat(31)}${e.why}`) : '';
      writeSync(2, `trace ${where.padEnd(7)} ${result} ${time}  ${e.title}${field}${man}${why}\n`);
    },
  };
}

export function jsonTraceReporter(): TraceSink {
  return { event: (e: TraceEvent) => void writeSync(2, JSON.stringify({ level: 'trace', ...e, ...(e.syscall ? { man: manPage(e.syscall).url } : {}) }) + '\n') };
}

export function traceReporter(format: 'text' | 'json'): TraceSink {
  return format === 'json' ? jsonTraceReporter() : textTraceReporter();
}
