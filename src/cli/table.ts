// Every command, with a lazy loader. Adding a command = one file in ./commands + one row here.
import type { CommandEntry } from './command.js';

export const commandTable: CommandEntry[] = [
  { name: 'run', describe: 'create and run a container in the foreground', load: async () => (await import('./commands/run.js')).default },
  { name: 'create', describe: 'create a container, its process waiting for start', load: async () => (await import('./commands/create.js')).default },
  { name: 'start', describe: 'start the user process of a created container', load: async () => (await import('./commands/start.js')).default },
  { name: 'state', describe: 'print the state of a container as JSON', load: async () => (await import('./commands/state.js')).default },
  { name: 'kill', describe: 'send a signal to a container', load: async () => (await import('./commands/kill.js')).default },
  { name: 'delete', describe: 'remove a stopped container (--force: kill it first)', load: async () => (await import('./commands/delete.js')).default },
  { name: 'exec', describe: 'run a process in a running container', load: async () => (await import('./commands/exec.js')).default },
  { name: 'ps', describe: 'list the processes of a container', load: async () => (await import('./commands/ps.js')).default },
  { name: 'pause', describe: 'freeze a container', load: async () => (await import('./commands/pause.js')).default },
  { name: 'resume', describe: 'thaw a paused container', load: async () => (await import('./commands/resume.js')).default },
  { name: 'update', describe: 'change the resource limits of a live container', load: async () => (await import('./commands/update.js')).default },
  { name: 'events', describe: 'stats and oom events as JSON lines', load: async () => (await import('./commands/events.js')).default },
  { name: 'features', describe: 'what this runtime supports, as JSON', load: async () => (await import('./commands/features.js')).default },
  { name: 'list', describe: 'list containers', load: async () => (await import('./commands/list.js')).default },
  { name: 'inspect', describe: 'namespaces, cgroup, mounts, id maps and capabilities of a running container', load: async () => (await import('./commands/inspect.js')).default },
  { name: 'explain', describe: 'print the step plan for a bundle without running it', load: async () => (await import('./commands/explain.js')).default },
  { name: 'spec', describe: 'write a default config.json', load: async () => (await import('./commands/spec.js')).default },
  { name: 'check', describe: 'report what this host can do for containers, and how to fix what is missing', load: async () => (await import('./commands/check.js')).default },
  { name: 'network', describe: 'manage CNI networks: create, ls, inspect, rm, check', load: async () => (await import('./commands/network.js')).default },
  { name: 'sweep', describe: 'remove the containers of test sessions whose process is gone', load: async () => (await import('./commands/sweep.js')).default },
  { name: 'image', describe: 'manage images: pull, import, ls, inspect, rm, prune, unpack', load: async () => (await import('./commands/image.js')).default },
];
