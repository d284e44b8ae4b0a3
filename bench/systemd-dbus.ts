// Times the systemd driver's D-Bus work against a real systemd, per address (systemd's private socket,
// the system bus): connect + EXTERNAL auth + Version (one round trip, pipelined), StartTransientUnit of a
// scope with a waiting process until its job ends, StopUnit until its job ends. Run by
// bench/systemd-dbus.sh in the VM lane booted with systemd (vm/run.sh --systemd); under TCG every
// number is 13-20x what the same machine would show natively.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { SystemdManager, PRIVATE_SOCKET, SYSTEM_BUS_SOCKET } from '../src/cgroups/systemd/manager-api.js';
import { Variant } from '../src/cgroups/systemd/wire.js';

const runs = Number(process.env.RUNS ?? 15);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(label: string, bus: boolean, path: string): Promise<void> {
  const connect: number[] = [];
  const start: number[] = [];
  const stop: number[] = [];
  for (let i = 0; i < runs; i++) {
    const child = spawn('sleep', ['100'], { stdio: 'ignore' });
    const unit = `tsrun-bench-${process.pid}-${i}.scope`;
    const t0 = performance.now();
    const m = await SystemdManager.connect([{ path, bus }]);
    await m.version();
    const t1 = performance.now();
    const result = await m.startTransientUnit(unit, [
      ['Description', new Variant('s', 'tsrun bench')], ['Slice', new Variant('s', 'system.slice')], ['Delegate', new Variant('b', true)],
      ['PIDs', new Variant('au', [child.pid!])], ['DefaultDependencies', new Variant('b', false)],
    ]);
    const t2 = performance.now();
    if (result !== 'done') throw new Error(`${unit}: ${result}`);
    child.kill('SIGKILL');
    await m.stopUnit(unit);
    const t3 = performance.now();
    await m.resetFailedUnit(unit);
    m.close();
    connect.push(t1 - t0); start.push(t2 - t1); stop.push(t3 - t2);
    if (process.env.BENCH_VERBOSE) console.log(i, (t1 - t0).toFixed(1), (t2 - t1).toFixed(1), (t3 - t2).toFixed(1));
  }
  console.log(`${label.padEnd(28)} connect+version ${median(connect).toFixed(2)} ms   StartTransientUnit+job ${median(start).toFixed(2)} ms   kill+StopUnit+job ${median(stop).toFixed(2)} ms   (medians of ${runs})`);
}

await measure(`private (${PRIVATE_SOCKET})`, false, PRIVATE_SOCKET);
if (process.env.BENCH_SYSTEM_BUS === '1') {
  await measure(`system bus (${SYSTEM_BUS_SOCKET})`, true, SYSTEM_BUS_SOCKET);
  await measure(`private, again`, false, PRIVATE_SOCKET);
}
