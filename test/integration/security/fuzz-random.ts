// A small seeded PRNG for the fuzz tests (mulberry32): the same seed gives the same cases, so a
// failure printed with its seed and case number can be replayed (TSRUN_FUZZ_SEED=<seed>).

export class Random {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A string of `n` characters drawn from `alphabet`. */
  string(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }

  /** Arbitrary code points (surrogate pairs, controls, NUL, U+2028 included). */
  anyText(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) {
      const kind = this.int(0, 5);
      const cp = kind === 0 ? this.int(0, 0x1f) : kind === 1 ? this.int(0x20, 0x7e) : kind === 2 ? this.int(0x80, 0x7ff) : kind === 3 ? this.int(0x800, 0xffff) : kind === 4 ? this.int(0x10000, 0x10ffff) : 0x2f;
      s += (cp >= 0xd800 && cp <= 0xdfff) ? '?' : String.fromCodePoint(cp);
    }
    return s;
  }
}

/** TSRUN_FUZZ_SEED, or the fixed default (so `make test` is reproducible; set the variable to explore). */
export function fuzzSeed(fallback: number): number {
  const env = process.env.TSRUN_FUZZ_SEED;
  if (env === undefined || env === '') return fallback;
  if (env === 'random') return Math.floor(Math.random() * 2 ** 32);
  const n = Number(env);
  if (!Number.isInteger(n)) throw new Error(`TSRUN_FUZZ_SEED must be an integer or "random", got ${env}`);
  return n >>> 0;
}
