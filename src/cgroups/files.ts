// Reading and writing cgroup interface files. Writes open with O_WRONLY and no O_CREAT: a missing file
// must fail (ENOENT means "controller not enabled") instead of being created, and some files
// (cgroup.kill) refuse to be opened for reading at all. Each value goes out in one write(2).
import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupFsError } from './errors.js';

export function writeCgroupFile(dir: string, file: string, value: string, field?: string): void {
  const path = join(dir, file);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY);
  } catch (err) {
    throw cgroupFsError(`opening`, path, 'open', err, field);
  }
  try {
    writeSync(fd, value);
  } catch (err) {
    throw cgroupFsError(`writing ${JSON.stringify(value)} to`, path, 'write', err, field);
  } finally {
    closeSync(fd);
  }
}

/** The file's text, or undefined if it does not exist (a controller that is not enabled). */
export function readCgroupFile(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cgroupFsError('reading', join(dir, file), 'read', err);
  }
}

export function cgroupFileExists(dir: string, file: string): boolean {
  return existsSync(join(dir, file));
}

/** Parses "key value" lines (cgroup.events, memory.events, cpu.stat, pids.events …) into numbers. */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) out[key] = value === 'max' ? Infinity : Number(value);
  }
  return out;
}

/** Parses a single-number file ("12345\n"), with "max" as Infinity. */
export function parseSingle(text: string): number {
  const t = text.trim();
  return t === 'max' ? Infinity : Number(t);
}
