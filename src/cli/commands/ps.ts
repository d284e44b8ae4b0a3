// tsrun ps [--format table|json] ID [PS OPTIONS…]
// As runc: `json` is the container's pids; `table` runs the host's ps (with the options given, -ef by
// default) and keeps its header and the lines of the container's processes, found by the PID column.
// child_process is loaded when the table is made, with process.getBuiltinModule: the startup snapshot
// serves ps and cannot import() a builtin, and a static import would put child_process, net and dgram
// in the snapshot's heap, which every command deserializes (manifest.ts, excludedBuiltins).
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';
import { TsrunError } from '../../errors.js';

/** ps's output cut to its header and the lines whose PID column is one of `pids`. */
export function filterPsTable(output: string, pids: readonly number[]): string {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const pidIndex = header.trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new TsrunError('ps: couldn\'t find PID field in ps output');
  const wanted = new Set(pids);
  const kept = lines.slice(1).filter((l) => l.trim() !== '' && wanted.has(Number(l.trim().split(/\s+/)[pidIndex])));
  return [header, ...kept].join('\n') + '\n';
}

const command: CommandModule<{ id: string; psArgs: string[]; format: string }> = {
  command: 'ps',
  describe: 'list the processes of a container (host pids): the host\'s `ps -ef` lines of them, or their pids as JSON',
  positionals: [
    { name: 'id', describe: 'container id', required: true },
    { name: 'ps-args', describe: 'options for the host\'s ps (default -ef); its output must have a PID column', variadic: true },
  ],
  optionsEndAfterPositionals: 1,
  options: { format: { type: 'string', short: 'f', default: 'table', choices: ['table', 'json'], describe: 'output format' } },
  async handler(args) {
    const { containerProcesses } = await import('../../container/ps.js');
    const pids = (await containerProcesses(args.root, args.id)).map((p) => p.pid);
    if (args.format === 'json') {
      writeSync(1, JSON.stringify(pids) + '\n');
      return 0;
    }
    const { spawnSync } = process.getBuiltinModule('node:child_process');
    const ps = spawnSync('ps', args.psArgs.length ? args.psArgs : ['-ef'], { encoding: 'utf8' });
    if (ps.error || ps.status !== 0) throw new TsrunError(`ps ${(args.psArgs.length ? args.psArgs : ['-ef']).join(' ')}: ${ps.error?.message ?? `exit status ${ps.status}`}: ${(ps.stdout ?? '') + (ps.stderr ?? '')}`.trim());
    writeSync(1, filterPsTable(ps.stdout, pids));
    return 0;
  },
};

export default command;
