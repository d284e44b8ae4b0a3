// Two reporters for the same trace events (vitest-style pluggable reporters): aligned text for
// people, one JSON object per line for machines. Both write to stderr so stdout stays the container's.
import { writeSync } from 'node:fs';
import type { TraceEvent, TraceSink } from '../../process/trace.js';

const useColour = (): boolean => process.stderr.isTTY && !process.env.NO_COLOR;

export function textTraceReporter(): TraceSink {
  const colour = useColour();
  const paint = (code: number, s: string): string => (colour ? `\x1b[${code}m${s}\x1b[0m` : s);
  return {
    event(e: TraceEvent) {
      const ok = e.result === 'ok' || e.result === 'exec' || e.result.startsWith('skipped');
      const where = e.who === 'parent' ? 'parent' : `step ${String(e.step).padStart(2)}`;
      const time = e.durationMs !== undefined ? `${e.durationMs.toFixed(3).padStart(8)}ms` : ' '.repeat(10);
      const result = paint(ok ? 32 : 31, e.result.padEnd(7));
      const field = e.field ? paint(36, ` [${e.field}]`) : '';
      const why = e.why ? paint(2, `\n${' '.repeat(31)}${e.why}`) : '';
      writeSync(2, `trace ${where.padEnd(7)} ${result} ${time}  ${e.title}${field}${why}\n`);
    },
  };
}

export function jsonTraceReporter(): TraceSink {
  return { event: (e: TraceEvent) => void writeSync(2, JSON.stringify({ level: 'trace', ...e }) + '\n') };
}

export function traceReporter(format: 'text' | 'json'): TraceSink {
  return format === 'json' ? jsonTraceReporter() : textTraceReporter();
}
