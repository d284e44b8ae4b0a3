// Every command, with a lazy loader. Adding a command = one file in ./commands + one row here.
import type { CommandEntry } from './command.js';

export const commandTable: CommandEntry[] = [
  { name: 'run', describe: 'create and run a container in the foreground', load: async () => (await import('./commands/run.js')).default },
  { name: 'explain', describe: 'print the step plan for a bundle without running it', load: async () => (await import('./commands/explain.js')).default },
  { name: 'spec', describe: 'write a default config.json', load: async () => (await import('./commands/spec.js')).default },
  { name: 'check', describe: 'report what this host can do for containers, and how to fix what is missing', load: async () => (await import('./commands/check.js')).default },
  { name: 'image', describe: 'manage images: import, ls, inspect, rm, prune, unpack', load: async () => (await import('./commands/image.js')).default },
];
