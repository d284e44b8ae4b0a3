// D-Bus messages: the fixed header, the header fields and the body, encoded and decoded with wire.ts.
// Only little-endian messages are made; a big-endian one from a peer is refused (systemd and
// dbus-daemon send the host's order, and tsrun runs on little-endian machines).
import { Reader, Variant, WireError, Writer, splitSignature, type DBusValue } from './wire.js';

export const MESSAGE = { call: 1, return: 2, error: 3, signal: 4 } as const;

/** Header flag: the caller does not want an answer (a reply would only be thrown away). */
export const NO_REPLY_EXPECTED = 0x1;

export interface Message {
  type: number;
  flags: number;
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  sender?: string;
  /** The body's signature, '' for none. */
  signature: string;
  body: DBusValue[];
}

/** Header field codes and the type of each field's value. */
const FIELDS: [keyof Message, number, string][] = [
  ['path', 1, 'o'], ['interface', 2, 's'], ['member', 3, 's'], ['errorName', 4, 's'],
  ['replySerial', 5, 'u'], ['destination', 6, 's'], ['sender', 7, 's'], ['signature', 8, 'g'],
];
const FIXED_HEADER = 16;

export function encodeMessage(m: Omit<Message, 'body' | 'signature'> & { signature?: string; body?: DBusValue[] }): Buffer {
  const signature = m.signature ?? '';
  const body = m.body ?? [];
  const types = splitSignature(signature);
  if (types.length !== body.length) throw new WireError(`signature "${signature}" has ${types.length} types for ${body.length} values`);
  const w = new Writer();
  w.write('y', 'l'.charCodeAt(0));
  w.write('y', m.type);
  w.write('y', m.flags);
  w.write('y', 1);
  w.write('u', 0); // body length, patched below
  w.write('u', m.serial);
  const fields: DBusValue[] = [];
  for (const [key, code, type] of FIELDS) {
    const value = key === 'signature' ? (signature === '' ? undefined : signature) : m[key];
    if (value !== undefined) fields.push([code, new Variant(type, value as DBusValue)]);
  }
  w.write('a(yv)', fields);
  w.align(8);
  const bodyStart = w.length;
  types.forEach((t, i) => w.write(t, body[i]!));
  w.patchUint32(4, w.length - bodyStart);
  return Buffer.from(w.bytes());
}

/** The whole length of the message that starts at `offset`, or undefined until its fixed header is in. */
export function messageLength(buf: Buffer, offset = 0): number | undefined {
  if (buf.length - offset < FIXED_HEADER) return undefined;
  if (buf[offset] !== 'l'.charCodeAt(0)) throw new WireError(`unsupported message byte order "${String.fromCharCode(buf[offset]!)}" (only little-endian)`);
  const fieldsLength = buf.readUInt32LE(offset + 12);
  const headerEnd = FIXED_HEADER + fieldsLength;
  return headerEnd + ((8 - (headerEnd % 8)) % 8) + buf.readUInt32LE(offset + 4);
}

/** Decodes one whole message (as long as messageLength says). */
export function decodeMessage(buf: Buffer): Message {
  const length = messageLength(buf);
  if (length === undefined || buf.length < length) throw new WireError('message truncated');
  const r = new Reader(buf, 0, 0);
  const m: Message = { type: buf[1]!, flags: buf[2]!, serial: buf.readUInt32LE(8), signature: '', body: [] };
  r.offset = 12;
  for (const field of r.read('a(yv)') as [number, Variant][]) {
    const known = FIELDS.find(([, code]) => code === field[0]);
    if (known) (m as unknown as Record<string, DBusValue>)[known[0]] = field[1].value;
  }
  const bodyStart = length - buf.readUInt32LE(4);
  const body = new Reader(buf.subarray(0, length), bodyStart, bodyStart);
  m.body = splitSignature(m.signature).map((t) => body.read(t));
  return m;
}
