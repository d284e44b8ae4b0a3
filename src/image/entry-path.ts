// Turning a tar entry name into a path inside a layer directory. A layer tar is untrusted input: a
// name with `..`, an absolute name or a NUL byte is refused outright rather than "cleaned", because a
// cleaned name would silently land somewhere the image author did not write.
import { TsrunError } from '../errors.js';

// Anything to clean or refuse: a NUL, a leading '/', an empty, '.' or '..' component.
const UNCLEAN = /\0|^\/|\/\/|(?:^|\/)\.\.?(?:\/|$)/;

/** Returns the entry's path relative to the layer root ('' for the root itself), without `./`. */
export function entryPath(name: string, what = 'entry'): string {
  // Most names are clean already (`usr/share/x`, `etc/`): no splitting and joining (~40k per second).
  if (!UNCLEAN.test(name)) return name.endsWith('/') ? name.slice(0, -1) : name;
  if (name.includes('\0')) throw hostile(name, `${what} name contains a NUL byte`);
  if (name.startsWith('/')) throw hostile(name, `${what} has an absolute path`);
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw hostile(name, `${what} has a '..' component`);
    parts.push(part);
  }
  return parts.join('/');
}

/**
 * The entry's name as an error message quotes it: JSON-escaped (a name may hold a newline or any
 * control character, and the message must stay one printable line) and cut after 200 characters.
 */
export function quoteEntryName(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}

export function hostile(name: string, problem: string): TsrunError {
  return new TsrunError(`refusing layer entry ${quoteEntryName(name)}: ${problem}`, { file: name });
}

/** Parent of a relative path ('' for a top-level name). */
export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/** Last component of a relative path. */
export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** `dir/base` for a relative `dir` ('' is the layer root). */
export function childOf(dir: string, base: string): string {
  return dir === '' ? base : `${dir}/${base}`;
}
