// Create, phase 5: hand the container over — the mounts it made in the caller's table recorded, the
// pid file, the pty master to the console socket — and drop `creator` from the record: from now on
// the status comes from the init.
import { rmSync } from 'node:fs';
import { finishCallerMounts } from '../../rootfs/caller-mounts-host.js';
import { handOverConsole, type ContainerProcess } from '../../process/parent.js';
import { writePidFile } from '../../state/pid-file.js';
import type { ContainerRecord } from '../../state/store.js';
import type { CreateContext } from './context.js';
import type { Materialized } from './materialize.js';

export function finish(ctx: CreateContext, m: Materialized, init: ContainerProcess): ContainerRecord {
  const { opts, store } = ctx;
  if (m.callerMounts) {
    m.callerMounts = finishCallerMounts(m.callerMounts);
    m.record = { ...m.record, callerMounts: m.callerMounts };
    store.write(m.record);
  }
  if (opts.pidFile) {
    const pidFile = opts.pidFile;
    writePidFile(pidFile, init.pid);
    ctx.undo.push(`the pid file ${pidFile}`, () => rmSync(pidFile, { force: true }));
  }
  if (opts.consoleSocket) handOverConsole(init, opts.consoleSocket);
  // `run` writes the record itself as it starts the container (until then a killed `run` leaves a
  // stopped container, whose init dies with it).
  const { creator: _done, ...created } = m.record;
  if (!opts.startedByCaller) store.write(created);
  return created;
}
