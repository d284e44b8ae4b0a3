// The commands tsrun's V8 startup snapshot runs itself: the container lifecycle that podman, CI
// scripts and `tsrun run` call many times a second. Imported statically, so their code is in the
// snapshot heap. The rest (help, image, check, inspect, explain, events) live only in the full
// bundle; see snapshot-main.ts for why, and runCli's `fallback` for how an invocation is routed.
import type { CommandEntry, CommandModule } from '../cli/command.js';
import run from '../cli/commands/run.js';
import create from '../cli/commands/create.js';
import start from '../cli/commands/start.js';
import state from '../cli/commands/state.js';
import kill from '../cli/commands/kill.js';
import del from '../cli/commands/delete.js';
import exec from '../cli/commands/exec.js';
import ps from '../cli/commands/ps.js';
import pause from '../cli/commands/pause.js';
import resume from '../cli/commands/resume.js';
import list from '../cli/commands/list.js';
import features from '../cli/commands/features.js';
import spec from '../cli/commands/spec.js';

const hotModules: CommandModule<any>[] = [run, create, start, state, kill, del, exec, ps, pause, resume, list, features, spec];

export const hotTable: CommandEntry[] = hotModules.map((mod) => ({ name: mod.command, describe: mod.describe, load: async () => mod }));
