// The D-Bus wire format against bytes worked out by hand from the D-Bus Specification, and round trips
// of every type the systemd driver sends (a(sv) with variants of s, b, t, au, ay; a(sa(sv))).
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, messageLength, MESSAGE } from '../../../../src/cgroups/systemd/message.js';
import { Reader, Variant, WireError, Writer, splitSignature, type DBusValue } from '../../../../src/cgroups/systemd/wire.js';

const bytesOf = (type: string, value: DBusValue): string => {
  const w = new Writer();
  w.write(type, value);
  return Buffer.from(w.bytes()).toString('hex');
};
const roundTrip = (type: string, value: DBusValue): DBusValue => {
  const w = new Writer();
  w.write(type, value);
  return new Reader(Buffer.from(w.bytes())).read(type);
};

describe('D-Bus wire format', () => {
  it('splits signatures into complete types', () => {
    expect(splitSignature('ssa(sv)a(sa(sv))')).toEqual(['s', 's', 'a(sv)', 'a(sa(sv))']);
    expect(splitSignature('a{sv}uo')).toEqual(['a{sv}', 'u', 'o']);
    expect(() => splitSignature('a(sv')).toThrow(WireError);
    expect(() => splitSignature('z')).toThrow(/unknown type code "z"/);
  });

  it('writes basic types little-endian, strings with length and NUL, signatures with a byte length', () => {
    expect(bytesOf('u', 0x01020304)).toBe('04030201');
    expect(bytesOf('b', true)).toBe('01000000');
    expect(bytesOf('t', 0xffff_ffff_ffff_ffffn)).toBe('ffffffffffffffff');
    expect(bytesOf('s', 'ab')).toBe('02000000616200');
    expect(bytesOf('g', 'sv')).toBe('02737600');
  });

  it('pads to each type\'s alignment, and an array\'s length excludes the padding before its first element', () => {
    // (yt): y, 7 bytes of padding, t
    expect(bytesOf('(yt)', [1, 2n])).toBe('01000000000000000200000000000000');
    // at with one element: length 8, then padding to 8, then the element
    expect(bytesOf('at', [5n])).toBe('08000000' + '00000000' + '0500000000000000');
    // an empty array of structs still pads to 8
    expect(bytesOf('a(sv)', [])).toBe('00000000' + '00000000');
  });

  it('round-trips what StartTransientUnit sends', () => {
    const props: DBusValue = [
      ['Description', new Variant('s', 'tsrun container x')],
      ['Delegate', new Variant('b', true)],
      ['PIDs', new Variant('au', [1234])],
      ['MemoryMax', new Variant('t', 33554432n)],
      ['AllowedCPUs', new Variant('ay', new Uint8Array([0x2f]))],
    ];
    const back = roundTrip('a(sv)', props) as [string, Variant][];
    expect(back.map(([n, v]) => [n, v.signature, v.value])).toEqual([
      ['Description', 's', 'tsrun container x'], ['Delegate', 'b', true], ['PIDs', 'au', [1234]],
      ['MemoryMax', 't', 33554432n], ['AllowedCPUs', 'ay', new Uint8Array([0x2f])],
    ]);
    expect(roundTrip('a(sa(sv))', [])).toEqual([]);
    expect(roundTrip('a{sv}', [['k', new Variant('i', -3)]])).toEqual([['k', new Variant('i', -3)]]);
  });

  it('refuses values of the wrong type and truncated input', () => {
    expect(() => bytesOf('u', 'x')).toThrow(WireError);
    expect(() => bytesOf('s', 'a\0b')).toThrow(/NUL/);
    expect(() => bytesOf('v', 'plain')).toThrow(/Variant/);
    expect(() => new Reader(Buffer.from('0500000061', 'hex')).read('s')).toThrow(/truncated/);
  });
});

describe('D-Bus messages', () => {
  it('encodes a method call with its header fields and body, and decodes it back', () => {
    const bytes = encodeMessage({
      type: MESSAGE.call, flags: 0, serial: 7, destination: 'org.freedesktop.systemd1', path: '/org/freedesktop/systemd1',
      interface: 'org.freedesktop.systemd1.Manager', member: 'StopUnit', signature: 'ss', body: ['tsrun-x.scope', 'replace'],
    });
    expect(bytes.subarray(0, 4).toString('hex')).toBe('6c010001'); // little-endian, method call, no flags, version 1
    expect(bytes.readUInt32LE(8)).toBe(7);
    expect(messageLength(bytes)).toBe(bytes.length);
    expect(messageLength(bytes.subarray(0, 15))).toBeUndefined();
    const m = decodeMessage(bytes);
    expect(m).toMatchObject({ type: 1, serial: 7, member: 'StopUnit', path: '/org/freedesktop/systemd1', signature: 'ss', body: ['tsrun-x.scope', 'replace'] });
  });

  it('the body starts 8-aligned after the header fields, and its length is in the fixed header', () => {
    const bytes = encodeMessage({ type: MESSAGE.signal, flags: 0, serial: 1, path: '/a', interface: 'a.b', member: 'C', signature: 'uo', body: [3, '/job/3'] });
    const bodyLength = bytes.readUInt32LE(4);
    expect((bytes.length - bodyLength) % 8).toBe(0);
    expect(decodeMessage(bytes).body).toEqual([3, '/job/3']);
  });

  it('refuses big-endian messages', () => {
    const bytes = encodeMessage({ type: MESSAGE.call, flags: 0, serial: 1, path: '/', member: 'X' });
    bytes[0] = 'B'.charCodeAt(0);
    expect(() => messageLength(bytes)).toThrow(/only little-endian/);
  });
});
