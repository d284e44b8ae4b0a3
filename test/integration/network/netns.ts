// A network namespace for a test to play "the host" in: bridges, veths and firewall rules that the
// CNI plugins make go there, never into this machine's own namespace. It is held by a sleeping
// process (no /run/netns mount left behind) and dies with it. tsrun runs inside it under nsenter, so
// the plugins it starts do too; every command is refused unless the namespace really is another one.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { execa } from 'execa';
import { REPO, TSRUN, type RunResult } from '../../helpers/bundle.js';

export class TestNetns {
  private constructor(private readonly holder: ChildProcess, readonly path: string) {}

  /** A new namespace with its lo up. */
  static async create(): Promise<TestNetns> {
    const holder = spawn('unshare', ['--net', 'sleep', '3600'], { stdio: 'ignore' });
    const pid = holder.pid!;
    // unshare execs sleep once the namespace is made. (This waited 2 s at most and went on regardless:
    // on a loaded host, with the namespace not made yet, assertNotHost would fail the test.)
    const sleeping = (): boolean => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'); } catch { return false; } };
    for (const end = Date.now() + 15_000; !sleeping(); await new Promise((r) => setTimeout(r, 10))) {
      if (Date.now() > end) { holder.kill('SIGKILL'); throw new Error(`unshare --net (pid ${pid}) did not exec sleep within 15 s`); }
    }
    const ns = new TestNetns(holder, `/proc/${pid}/ns/net`);
    ns.assertNotHost();
    ns.exec(['ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Throws unless the namespace exists and is not this process's (the machine's). */
  assertNotHost(): void {
    const mine = readlinkSync('/proc/self/ns/net');
    let theirs: string;
    try { theirs = readlinkSync(this.path); } catch { throw new Error(`test network namespace ${this.path} is gone: refusing to run`); }
    if (theirs === mine) throw new Error('the test network namespace is the host\'s: refusing to run');
  }

  get inode(): string { return readlinkSync(this.path); }

  /** A command inside the namespace (synchronously; its stdout). */
  exec(argv: string[], opts: { input?: string } = {}): string {
    this.assertNotHost();
    return execFileSync('nsenter', [`--net=${this.path}`, '--', ...argv], { encoding: 'utf8', ...(opts.input !== undefined ? { input: opts.input } : { stdio: ['ignore', 'pipe', 'pipe'] }) });
  }

  /**
   * `tsrun …args` inside the namespace; never throws for a failure. `binds`: files bound over host
   * files (source, target) for this tsrun only, in a private mount namespace of its own (so a test
   * can give it a host file of its choosing, the host's own untouched): for a foreground `run` only,
   * since what tsrun mounts there (a pinned network namespace) goes with that namespace.
   */
  async tsrun(args: readonly string[], opts: { input?: string; env?: Record<string, string>; timeout?: number; binds?: [string, string][] } = {}): Promise<RunResult> {
    this.assertNotHost();
    const binds = opts.binds ?? [];
    const command = binds.length === 0 ? ['node', TSRUN, ...args] : [
      'unshare', '--mount', '--propagation', 'private', 'sh', '-ec',
      `${binds.map((_, i) => `mount --bind "$${2 * i + 1}" "$${2 * i + 2}"; `).join('')}shift ${2 * binds.length}; exec node "$@"`,
      'sh', ...binds.flat(), TSRUN, ...args,
    ];
    const r = await execa('nsenter', [`--net=${this.path}`, '--', ...command], {
      reject: false, timeout: opts.timeout ?? 30_000, killSignal: 'SIGKILL', stripFinalNewline: false, cwd: REPO,
      ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
      env: { ...process.env, ...opts.env },
    });
    return { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), signal: r.signal ?? undefined, timedOut: r.timedOut };
  }

  /** `tsrun …args` started inside the namespace, for a test that kills it. */
  startTsrun(args: readonly string[], env: Record<string, string>): ChildProcess {
    this.assertNotHost();
    // No pipes: a container process (which inherits tsrun's stdio) would keep them open after the kill.
    return spawn('nsenter', [`--net=${this.path}`, '--', 'node', TSRUN, ...args], { cwd: REPO, stdio: 'ignore', env: { ...process.env, ...env } });
  }

  /** Network interfaces of the namespace (`ip -o link`), names only. */
  links(): string[] {
    return this.exec(['ip', '-o', 'link']).split('\n').filter(Boolean).map((l) => l.split(': ')[1]!.split('@')[0]!);
  }

  /** The namespace's iptables rules (every table), as iptables-save prints them. */
  rules(): string[] {
    return this.exec(['iptables-save']).split('\n').filter((l) => l.startsWith('-A'));
  }

  close(): void {
    this.holder.kill('SIGKILL');
  }
}
