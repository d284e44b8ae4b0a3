// The D-Bus wire format (the "D-Bus Specification", chapter "Message Protocol"), as far as talking to
// systemd needs it: little-endian messages, every basic type, arrays, structs, dict entries and
// variants, driven by signature strings. Pure: bytes in, values out, and back; no I/O.
//
// Values: y n q i u h → number, x t → bigint, b → boolean, d → number, s o g → string, ay → Uint8Array
// (systemd's CPU masks), other arrays → arrays, structs and dict entries → arrays of their fields,
// v → Variant.

/** A variant: a value carrying its own signature (`v`). */
export class Variant {
  constructor(readonly signature: string, readonly value: DBusValue) {}
}

export type DBusValue = number | bigint | boolean | string | Uint8Array | Variant | DBusValue[];

export class WireError extends Error {
  override name = 'WireError';
}

const ALIGN: Record<string, number> = {
  y: 1, b: 4, n: 2, q: 2, i: 4, u: 4, x: 8, t: 8, d: 8, h: 4, s: 4, o: 4, g: 1, a: 4, '(': 8, '{': 8, v: 1,
};

/** Splits a signature into its complete types: `sa(sv)u` → [`s`, `a(sv)`, `u`]. */
export function splitSignature(signature: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < signature.length;) {
    const end = completeTypeEnd(signature, i);
    out.push(signature.slice(i, end));
    i = end;
  }
  return out;
}

/** Index just after the complete type starting at `i`. */
function completeTypeEnd(sig: string, i: number): number {
  const c = sig[i];
  if (c === undefined) throw new WireError(`signature "${sig}" ends inside a type`);
  if (c === 'a') return completeTypeEnd(sig, i + 1);
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let j = i + 1;
    while (sig[j] !== close) {
      if (j >= sig.length) throw new WireError(`signature "${sig}" has an unclosed "${c}"`);
      j = completeTypeEnd(sig, j);
    }
    return j + 1;
  }
  if (ALIGN[c] === undefined) throw new WireError(`signature "${sig}" has an unknown type code "${c}"`);
  return i + 1;
}

/** The fields of a struct or dict-entry type: `(sv)` → [`s`, `v`]. */
function innerTypes(type: string): string[] {
  return splitSignature(type.slice(1, -1));
}

/** Appends values to a growing little-endian buffer, aligned as the spec says. */
export class Writer {
  private buf = Buffer.alloc(256);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  align(n: number): void {
    const pad = (n - (this.length % n)) % n;
    this.ensure(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** Overwrites a uint32 written earlier (array lengths are known only after their elements). */
  patchUint32(at: number, value: number): void {
    this.buf.writeUInt32LE(value, at);
  }

  write(type: string, value: DBusValue): void {
    const c = type[0]!;
    this.align(ALIGN[c] ?? 1);
    switch (c) {
      case 'y': this.ensure(1); this.buf.writeUInt8(num(value, type), this.length); this.length += 1; return;
      case 'b': this.uint32(bool(value) ? 1 : 0); return;
      case 'n': this.ensure(2); this.buf.writeInt16LE(num(value, type), this.length); this.length += 2; return;
      case 'q': this.ensure(2); this.buf.writeUInt16LE(num(value, type), this.length); this.length += 2; return;
      case 'i': this.ensure(4); this.buf.writeInt32LE(num(value, type), this.length); this.length += 4; return;
      case 'u': case 'h': this.uint32(num(value, type)); return;
      case 'x': this.ensure(8); this.buf.writeBigInt64LE(big(value, type), this.length); this.length += 8; return;
      case 't': this.ensure(8); this.buf.writeBigUInt64LE(big(value, type), this.length); this.length += 8; return;
      case 'd': this.ensure(8); this.buf.writeDoubleLE(num(value, type), this.length); this.length += 8; return;
      case 's': case 'o': return this.string(str(value, type), 4);
      case 'g': return this.string(str(value, type), 1);
      case 'v': {
        if (!(value instanceof Variant)) throw new WireError(`a variant needs a Variant, got ${typeof value}`);
        this.string(value.signature, 1);
        this.write(value.signature, value.value);
        return;
      }
      case 'a': return this.array(type.slice(1), value);
      case '(': case '{': {
        const fields = innerTypes(type);
        if (!Array.isArray(value) || value.length !== fields.length) throw new WireError(`${type} needs an array of ${fields.length} values`);
        fields.forEach((t, i) => this.write(t, value[i]!));
        return;
      }
      default: throw new WireError(`cannot write type "${type}"`);
    }
  }

  private uint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
  }

  private string(s: string, lengthBytes: 1 | 4): void {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.includes(0)) throw new WireError('D-Bus strings cannot contain NUL');
    if (lengthBytes === 1) {
      if (bytes.length > 255) throw new WireError('a signature is at most 255 bytes');
      this.ensure(1);
      this.buf.writeUInt8(bytes.length, this.length);
      this.length += 1;
    } else {
      this.uint32(bytes.length);
    }
    this.ensure(bytes.length + 1);
    bytes.copy(this.buf, this.length);
    this.buf[this.length + bytes.length] = 0;
    this.length += bytes.length + 1;
  }

  private array(element: string, value: DBusValue): void {
    const lengthAt = this.length;
    this.uint32(0);
    // The padding to the first element is not part of the array's length, even when it is empty.
    this.align(ALIGN[element[0]!] ?? 1);
    const start = this.length;
    if (element === 'y' && value instanceof Uint8Array) {
      this.ensure(value.length);
      this.buf.set(value, this.length);
      this.length += value.length;
    } else {
      if (!Array.isArray(value)) throw new WireError(`a${element} needs an array`);
      for (const v of value) this.write(element, v);
    }
    this.patchUint32(lengthAt, this.length - start);
  }
}

const num = (v: DBusValue, type: string): number => {
  if (typeof v !== 'number' || (!Number.isInteger(v) && type !== 'd')) throw new WireError(`type "${type}" needs a number, got ${String(v)}`);
  return v;
};
const big = (v: DBusValue, type: string): bigint => {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new WireError(`type "${type}" needs an integer, got ${String(v)}`);
};
const bool = (v: DBusValue): boolean => {
  if (typeof v !== 'boolean') throw new WireError(`type "b" needs a boolean, got ${String(v)}`);
  return v;
};
const str = (v: DBusValue, type: string): string => {
  if (typeof v !== 'string') throw new WireError(`type "${type}" needs a string, got ${String(v)}`);
  return v;
};

/** Reads values from a little-endian buffer; offsets (and so alignment) count from `base`. */
export class Reader {
  constructor(private readonly buf: Buffer, public offset = 0, private readonly base = 0) {}

  private align(n: number): void {
    const rel = this.offset - this.base;
    this.offset += (n - (rel % n)) % n;
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new WireError('message truncated');
  }

  read(type: string): DBusValue {
    const c = type[0]!;
    this.align(ALIGN[c] ?? 1);
    switch (c) {
      case 'y': this.need(1); return this.buf.readUInt8(this.offset++);
      case 'b': return this.uint32() !== 0;
      case 'n': this.need(2); this.offset += 2; return this.buf.readInt16LE(this.offset - 2);
      case 'q': this.need(2); this.offset += 2; return this.buf.readUInt16LE(this.offset - 2);
      case 'i': this.need(4); this.offset += 4; return this.buf.readInt32LE(this.offset - 4);
      case 'u': case 'h': return this.uint32();
      case 'x': this.need(8); this.offset += 8; return this.buf.readBigInt64LE(this.offset - 8);
      case 't': this.need(8); this.offset += 8; return this.buf.readBigUInt64LE(this.offset - 8);
      case 'd': this.need(8); this.offset += 8; return this.buf.readDoubleLE(this.offset - 8);
      case 's': case 'o': return this.string(this.uint32());
      case 'g': this.need(1); return this.string(this.buf.readUInt8(this.offset++));
      case 'v': {
        this.need(1);
        const signature = this.string(this.buf.readUInt8(this.offset++));
        if (splitSignature(signature).length !== 1) throw new WireError(`a variant's signature must be one complete type, got "${signature}"`);
        return new Variant(signature, this.read(signature));
      }
      case 'a': {
        const length = this.uint32();
        const element = type.slice(1);
        this.align(ALIGN[element[0]!] ?? 1);
        const end = this.offset + length;
        this.need(length);
        if (element === 'y') {
          this.offset = end;
          return new Uint8Array(this.buf.subarray(end - length, end));
        }
        const out: DBusValue[] = [];
        while (this.offset < end) out.push(this.read(element));
        if (this.offset !== end) throw new WireError('array elements overrun the array length');
        return out;
      }
      case '(': case '{': return innerTypes(type).map((t) => this.read(t));
      default: throw new WireError(`cannot read type "${type}"`);
    }
  }

  private uint32(): number {
    this.need(4);
    this.offset += 4;
    return this.buf.readUInt32LE(this.offset - 4);
  }

  private string(length: number): string {
    this.need(length + 1);
    const s = this.buf.toString('utf8', this.offset, this.offset + length);
    if (this.buf[this.offset + length] !== 0) throw new WireError('string not NUL-terminated');
    this.offset += length + 1;
    return s;
  }
}
