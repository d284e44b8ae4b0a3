// Reads back a plan in the shim's wire format (native/encode-plan.ts, native-bindings/shim.h), as
// tsrun-init would: what the fake shim records of each spawn, so a test asserts on the plan the
// container process was actually given.
import { OP, PLAN_FLAG, PLAN_MAGIC } from '../../src/native/ops.js';

export interface WirePlanStep {
  op: keyof typeof OP;
  flags: number;
  ints: bigint[];
  strs: string[];
}

export interface WirePlan {
  cloneFlags: bigint;
  waitGo: boolean;
  trace: boolean;
  pdeathsig: boolean;
  preserveFds: number;
  passFds: number[];
  joins: { flag: number; path: string }[];
  steps: WirePlanStep[];
}

const OP_NAMES = new Map<number, keyof typeof OP>(Object.entries(OP).map(([name, n]) => [n, name as keyof typeof OP]));

export function decodePlan(b: Buffer): WirePlan {
  let at = 0;
  const u16 = (): number => { const v = b.readUInt16LE(at); at += 2; return v; };
  const u32 = (): number => { const v = b.readUInt32LE(at); at += 4; return v; };
  const i64 = (): bigint => { const v = b.readBigUInt64LE(at); at += 8; return v; };
  const str = (): string => { const n = u32(); const s = b.toString('utf8', at, at + n); at += n; return s; };
  if (u32() !== PLAN_MAGIC) throw new Error('decodePlan: not a plan (magic)');
  u32(); // version
  const cloneFlags = i64();
  const flags = u32();
  const preserveFds = u32();
  const passFds = Array.from({ length: u32() }, u32);
  const joins = Array.from({ length: u32() }, () => ({ flag: u32(), path: str() }));
  const steps = Array.from({ length: u32() }, (): WirePlanStep => {
    const op = OP_NAMES.get(u16());
    if (op === undefined) throw new Error(`decodePlan: unknown op at byte ${at - 2}`);
    const stepFlags = u16();
    const nInts = u16();
    const nStrs = u16();
    const ints = Array.from({ length: nInts }, i64);
    const strs = Array.from({ length: nStrs }, str);
    return { op, flags: stepFlags, ints, strs };
  });
  if (at !== b.length) throw new Error(`decodePlan: ${b.length - at} bytes left over`);
  return {
    cloneFlags, waitGo: (flags & PLAN_FLAG.WAIT_GO) !== 0, trace: (flags & PLAN_FLAG.TRACE) !== 0, pdeathsig: (flags & PLAN_FLAG.PDEATHSIG) !== 0,
    preserveFds, passFds, joins, steps,
  };
}
