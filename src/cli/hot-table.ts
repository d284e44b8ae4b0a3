// The commands tsrun's V8 startup snapshot runs itself: the container lifecycle that podman, CI
// scripts and `tsrun run` call many times a second. Imported statically, so their code is in the
// snapshot heap. The rest (help, image, check, inspect, explain, events) live only in the full
// bundle; see snapshot-main.ts for why, and runCli's `fallback` for how an invocation is routed.
import type { CommandEntry, CommandModule } from './command.js';
import run from './commands/run.js';
import create from './commands/create.js';
import start from './commands/start.js';
import state from './commands/state.js';
import kill from './commands/kill.js';
import del from './commands/delete.js';
import exec from './commands/exec.js';
import ps from './commands/ps.js';
import pause from './commands/pause.js';
import resume from './commands/resume.js';
import list from './commands/list.js';
import features from './commands/features.js';
import spec from './commands/spec.js';

const hotModules: CommandModule<any>[] = [run, create, start, state, kill, del, exec, ps, pause, resume, list, features, spec];

export const hotTable: CommandEntry[] = hotModules.map((mod) => ({ name: mod.command, describe: mod.describe, load: async () => mod }));
