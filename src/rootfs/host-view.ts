// The planner's window on the host filesystem (bind-mount sources), kept behind an interface so
// unit tests plan without touching the disk.
import { statSync } from 'node:fs';
import type { HostView } from './plan.js';

export const realHost: HostView = {
  kind(path) {
    try {
      return statSync(path).isDirectory() ? 'dir' : 'file';
    } catch {
      return undefined;
    }
  },
};
