// Serialises a Plan into the shim's wire format (see native-bindings/shim.h). Pure: unit-tested.
import type { Plan, Step } from '../abi/steps.js';
import { S_IF } from '../abi/linux.js';
import { MAX_PASS_FDS, OP, PLAN_FLAG, PLAN_MAGIC, PLAN_VERSION, STEP_FLAG } from './ops.js';

interface WireStep {
  op: number;
  flags: number;
  ints: (number | bigint)[];
  strs: string[];
  /** Binary data sent as more ints: 8-byte little-endian words appended after `ints` (n_int counts them). */
  words?: Buffer;
}

function stepFlags(s: Step): number {
  let f = 0;
  if ('inRoot' in s && s.inRoot) f |= STEP_FLAG.IN_ROOT;
  if (s.op === 'mknod' || s.op === 'symlink') f |= STEP_FLAG.IN_ROOT | STEP_FLAG.EXIST_OK;
  if (s.op === 'mask') f |= STEP_FLAG.OPTIONAL;
  if ('optional' in s && s.optional) f |= STEP_FLAG.OPTIONAL;
  if ('keepLocked' in s && s.keepLocked) f |= STEP_FLAG.KEEP_LOCKED;
  if ('existOk' in s && s.existOk) f |= STEP_FLAG.EXIST_OK;
  if ('noSymlinks' in s && s.noSymlinks) f |= STEP_FLAG.NO_SYMLINKS;
  if ('notOnProcfs' in s && s.notOnProcfs) f |= STEP_FLAG.NOT_ON_PROCFS;
  if (s.beforeClone) f |= STEP_FLAG.BEFORE_CLONE;
  return f;
}

/** ints and strings of one step, in the order shim.h documents for its op. */
function operands(s: Step): Pick<WireStep, 'ints' | 'strs' | 'words'> {
  switch (s.op) {
    case 'mount': {
      const mkdir = s.mkdir === 'dir' ? 1 : s.mkdir === 'file' ? 2 : 0;
      return { ints: [s.flags, mkdir], strs: [s.source, s.target, s.fstype, s.data] };
    }
    case 'umount': return { ints: [s.flags], strs: [s.target] };
    case 'openRoot': return { ints: [], strs: [s.path] };
    case 'mkdir': return { ints: [s.mode], strs: [s.path] };
    case 'mknod':
      return { ints: [S_IF[s.type] | s.mode, s.major, s.minor, s.uid, s.gid], strs: [s.path] };
    case 'symlink': return { ints: [], strs: [s.target, s.linkpath] };
    case 'chdir': case 'chroot': return { ints: [], strs: [s.path] };
    case 'pivotRoot': return { ints: [], strs: [s.newRoot, s.putOld] };
    case 'sethostname': case 'setdomainname': return { ints: [], strs: [s.name] };
    case 'writeFile': return { ints: [], strs: [s.path, s.content] };
    case 'setrlimit': return { ints: [s.resource, s.soft, s.hard], strs: [] };
    case 'prctl': return { ints: [s.option, ...s.args], strs: [] };
    case 'bounding': return { ints: [s.keep], strs: [] };
    case 'capset': return { ints: [s.effective, s.permitted, s.inheritable], strs: [] };
    case 'ambient': return { ints: [s.raise], strs: [] };
    case 'setgroups': return { ints: s.gids, strs: [] };
    case 'setresgid': return { ints: [s.gid], strs: [] };
    case 'setresuid': return { ints: [s.uid], strs: [] };
    case 'mask': return { ints: [], strs: [s.path] };
    case 'console': return { ints: [s.rows, s.cols, s.uid, s.gid], strs: [] };
    case 'setsid': case 'waitParent': case 'reopenDevNull': return { ints: [], strs: [] };
    case 'umask': return { ints: [s.mask], strs: [] };
    case 'exec':
      return s.path === undefined
        ? { ints: [s.args.length, s.env.length], strs: [...s.args, ...s.env] }
        : { ints: [s.args.length, s.env.length, 1n], strs: [s.path, ...s.args, ...s.env] };
    case 'chown': return { ints: [s.uid, s.gid], strs: [s.path] };
    case 'chmod': return { ints: [s.mode], strs: [s.path] };
    case 'openKeep': return { ints: [s.flags, s.slot], strs: [s.path] };
    case 'waitRead': case 'fchdir': return { ints: [s.slot], strs: [] };
    case 'newKeyring': return { ints: [], strs: [s.name] };
    case 'checkExec': return { ints: [s.args.length, s.env.length], strs: [...s.args, ...s.env] };
    case 'stdinFrom': return { ints: [s.fd], strs: [] };
    case 'dupFd': return { ints: [s.fd, s.target], strs: [] };
    case 'setns': return { ints: [s.nstype], strs: [s.path] };
    case 'unshare': return { ints: [s.flags], strs: [] };
    case 'loopbackUp': return { ints: [], strs: [] };
    case 'chownBeneath': return { ints: [s.uid, s.gid, s.mode], strs: [s.path] };
    case 'removeTree': return { ints: [], strs: [s.path] };
    case 'exit': return { ints: [s.status], strs: [] };
    case 'setxattrBeneath': { // the value's length, then its bytes padded to 8-byte words
      const v = Buffer.from(s.value, 'base64');
      return { ints: [v.length], strs: [s.path, s.name], words: Buffer.concat([v, Buffer.alloc(-v.length & 7)]) };
    }
    // One int per struct sock_filter: its 8 bytes read as a little-endian u64 (code | jt<<16 | jf<<24 | k<<32).
    case 'seccomp': return { ints: [s.flags], strs: [], words: Buffer.from(s.program, 'base64') };
  }
}

/**
 * Appends little-endian fields to one growing buffer. It runs once per container, in V8's interpreter
 * (too early for the optimising compilers), so every field is one DataView builtin call and every
 * string one native utf8 write: Buffer's writeUInt32LE and friends check their arguments in
 * JavaScript, which cost ~0.7 ms per plan here.
 */
class Writer {
  private buf = Buffer.allocUnsafe(16 * 1024);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  private at = 0;
  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
    this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.length);
  }
  u16(v: number): void { this.room(2); this.view.setUint16(this.at, v, true); this.at += 2; }
  u32(v: number): void { this.room(4); this.view.setUint32(this.at, v >>> 0, true); this.at += 4; }
  i64(v: number | bigint): void {
    this.room(8);
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      // Most operands are small non-negative numbers: two u32 halves, no BigInt on the way.
      this.view.setUint32(this.at, v % 0x1_0000_0000, true);
      this.view.setUint32(this.at + 4, Math.floor(v / 0x1_0000_0000), true);
    } else {
      this.view.setBigUint64(this.at, BigInt.asUintN(64, BigInt(v)), true);
    }
    this.at += 8;
  }
  str(s: string): void {
    if (s.includes('\0')) throw new Error(`string with a NUL byte cannot be passed to a syscall: ${JSON.stringify(s)}`);
    // At most 3 bytes per UTF-16 unit; the length goes in front once it is known.
    this.room(4 + s.length * 3);
    const n = this.buf.write(s, this.at + 4, 'utf8');
    this.view.setUint32(this.at, n, true);
    this.at += 4 + n;
  }
  /** Bytes as they are (a multiple of 8: each 8 bytes is one i64 operand). */
  raw(b: Buffer): void { this.room(b.length); this.at += b.copy(this.buf, this.at); }
  done(): Buffer { return Buffer.from(this.buf.subarray(0, this.at)); }
}

export interface EncodeOptions {
  trace: boolean;
}

export function encodePlan(plan: Plan, opts: EncodeOptions): Buffer {
  const w = new Writer();
  w.u32(PLAN_MAGIC);
  w.u32(PLAN_VERSION);
  w.i64(plan.cloneFlags);
  let flags = 0;
  if (plan.waitForParent) flags |= PLAN_FLAG.WAIT_GO;
  if (opts.trace) flags |= PLAN_FLAG.TRACE;
  if (plan.dieWithParent) flags |= PLAN_FLAG.PDEATHSIG;
  // tsrun writing the maps without privilege needs the child dumpable until the go-ahead (newuidmap,
  // setuid root, does not: it checks the owner of /proc/PID, which stays the user's); so does a user
  // entering its namespaces before then (enteredBeforeGo: a ptrace check guards setns by pidfd).
  if (plan.idMaps?.writer === 'own-id' || plan.enteredBeforeGo) flags |= PLAN_FLAG.DUMPABLE_UNTIL_GO;
  w.u32(flags);
  w.u32(plan.preserveFds);
  const pass = plan.passFds ?? [];
  if (pass.length > MAX_PASS_FDS) throw new Error(`a plan passes at most ${MAX_PASS_FDS} fds on, not ${pass.length}`);
  w.u32(pass.length);
  for (const fd of pass) w.u32(fd);
  const joins = plan.namespaces.filter((n) => n.action === 'join');
  w.u32(joins.length);
  for (const j of joins) { w.u32(j.flag); w.str(j.path ?? ''); }
  w.u32(plan.steps.length);
  for (const s of plan.steps) {
    const { ints, strs, words } = operands(s);
    const nWords = words ? words.length / 8 : 0;
    if (!Number.isInteger(nWords) || ints.length + nWords > 0xffff) throw new Error(`step ${s.op}: ${ints.length + nWords} int operands do not fit the wire format`);
    // A count that wrapped would make the shim read the rest of this step as further steps.
    if (strs.length > 0xffff) throw new Error(`step ${s.op}${s.field ? ` (${s.field})` : ''}: ${strs.length} strings do not fit the wire format (at most 65535)`);
    w.u16(OP[s.op]);
    w.u16(stepFlags(s));
    w.u16(ints.length + nWords);
    w.u16(strs.length);
    for (const i of ints) w.i64(i);
    if (words) w.raw(words);
    for (const t of strs) w.str(t);
  }
  return w.done();
}
