// Signal arguments as runc accepts them: KILL, SIGKILL, sigkill or 9.
import { constants } from 'node:os';
import { TsrunError } from '../errors.js';

export function parseSignal(arg: string): { name: string; number: number } {
  if (/^\d+$/.test(arg)) {
    const n = Number(arg);
    const name = Object.entries(constants.signals).find(([, v]) => v === n)?.[0];
    if (!name) throw new TsrunError(`unknown signal ${arg}`);
    return { name, number: n };
  }
  const upper = arg.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new TsrunError(`unknown signal ${arg}`);
  return { name, number: n };
}

export function signalName(n: number): string {
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;
}
