// A network namespace (and a private mount namespace) for the rootless network tests, made by root:
// slirp4netns listens and connects there, never in this machine's own namespace. It has lo up and a
// veth pair (this kernel may have no dummy driver) whose one end holds an address (UPLINK), which a
// container reaches through slirp's NAT with the host loopback disabled; traffic goes nowhere else.
// /dev/net/tun in its mount namespace is a node of the test's own (mode 0666 as Debian's udev makes
// it, or as a test asks), bound over the machine's, which is left as it is. Held by a sleeping
// process: gone with it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The address of the namespace's dummy interface: a server listening there is "outside" for a container. */
export const UPLINK = '10.231.0.1';

export class UserNetns {
  private constructor(private readonly holder: ChildProcess, readonly pid: number, private readonly tunDir: string) {}

  static async create(opts: { tunMode?: number } = {}): Promise<UserNetns> {
    const tunDir = mkdtempSync('/tmp/tsrun-rl-tun-');
    const node = join(tunDir, 'tun');
    execFileSync('mknod', [node, 'c', '10', '200']);
    chmodSync(node, opts.tunMode ?? 0o666);
    const holder = spawn('unshare', ['--net', '--mount', '--propagation', 'private', 'sleep', '3600'], { stdio: 'ignore' });
    const pid = holder.pid!;
    for (let i = 0; i < 200; i++) {
      try { if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep')) break; } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 10));
    }
    const ns = new UserNetns(holder, pid, tunDir);
    try {
      ns.assertNotHost();
      ns.exec(['mount', '--bind', node, '/dev/net/tun']);
      ns.exec(['ip', 'link', 'set', 'lo', 'up']);
      ns.exec(['ip', 'link', 'add', 'tsrl0', 'type', 'veth', 'peer', 'name', 'tsrl1']);
      ns.exec(['ip', 'link', 'set', 'tsrl1', 'up']);
      ns.exec(['ip', 'addr', 'add', `${UPLINK}/24`, 'dev', 'tsrl0']);
      ns.exec(['ip', 'link', 'set', 'tsrl0', 'up']);
    } catch (err) {
      // A set-up that fails leaves neither the holder nor the node behind.
      ns.close();
      throw err;
    }
    return ns;
  }

  /** Throws unless both namespaces exist and are not this process's (the machine's). */
  assertNotHost(): void {
    for (const t of ['net', 'mnt']) {
      let theirs: string;
      try { theirs = readlinkSync(`/proc/${this.pid}/ns/${t}`); } catch { throw new Error(`test namespace ${t} of ${this.pid} is gone: refusing to run`); }
      if (theirs === readlinkSync(`/proc/self/ns/${t}`)) throw new Error(`the test ${t} namespace is the host's: refusing to run`);
    }
  }

  /** What asUser puts before setpriv: the command then runs in these namespaces. */
  get prefix(): string[] {
    this.assertNotHost();
    return ['nsenter', '-t', String(this.pid), '--net', '--mount', '--'];
  }

  /** A command as root inside the namespaces (synchronously; its stdout). */
  exec(argv: string[]): string {
    return execFileSync(this.prefix[0]!, [...this.prefix.slice(1), ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** A long-running command as root inside the namespaces (a server); the caller kills it. */
  start(argv: string[]): ChildProcess {
    return spawn(this.prefix[0]!, [...this.prefix.slice(1), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  close(): void {
    this.holder.kill('SIGKILL');
    rmSync(this.tunDir, { recursive: true, force: true });
  }
}
