// Go's time.ParseDuration, for the options runc declares as durations (`events --interval 1s`): a
// sequence of decimal numbers with units ns, us (µs), ms, s, m, h, e.g. "1.5s", "1m30s". A bare
// number is taken as seconds, as tsrun's --interval took it before.
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  if (!/^([0-9]*\.?[0-9]+(ns|us|µs|μs|ms|s|m|h))+$/.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(/([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms;
}
