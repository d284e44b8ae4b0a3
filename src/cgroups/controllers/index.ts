// The registry of converters, in the order their writes are applied. cpuset comes before cpu so that a
// cpu.max quota is set after the CPUs it refers to; unified is last so that it can override anything
// derived from the typed fields (as in runc and crun).
import type { ControllerConverter } from '../types.js';
import { cpuWrites } from './cpu.js';
import { cpusetWrites } from './cpuset.js';
import { hugetlbWrites } from './hugetlb.js';
import { ioWrites } from './io.js';
import { memoryWrites } from './memory.js';
import { pidsWrites } from './pids.js';
import { unifiedWrites } from './unified.js';

export const CONVERTERS: readonly ControllerConverter[] = [
  cpusetWrites,
  cpuWrites,
  memoryWrites,
  pidsWrites,
  ioWrites,
  hugetlbWrites,
  unifiedWrites,
];
