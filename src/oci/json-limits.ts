// Limits on JSON documents tsrun reads, checked on their text: a config.json's size (before it is
// read), and how deeply an image's JSON document nests (before it is parsed: image documents are
// read at import, where a scan of the text costs nothing that matters). config.json's depth is
// checked by the validator on the parsed value instead (checks.ts): a scan of the text in the
// interpreter cost ~1 ms per 10 KB at every create.

/** Largest config.json tsrun reads: a podman config with a full seccomp profile is ~100 KB. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Deepest nesting of an image's JSON document (index, manifest, config: ~5 levels); the document is level 1. */
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;

/** Index just past the string that starts with the quote at `start` (text.length if it never ends). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/**
 * The offset of the bracket where the text first nests deeper than `max` levels, or undefined. Only
 * brackets outside strings count; the text need not be valid JSON (the parser reports that).
 */
export function tooDeepAt(text: string, max = MAX_JSON_DEPTH): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i) - 1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      if (depth > max) return i;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return undefined;
}
