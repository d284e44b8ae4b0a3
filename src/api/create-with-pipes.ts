// The first half of run() and start(): the container created from its spec by the CLI's
// createContainer, with stdio pipes this process reads; the pipes are handed over once the process
// exists, or all closed again when the create fails.
import { createContainer, type CreatedContainer } from '../container/create.js';
import { generatedId } from '../container/run.js';
import type { CommonOptions } from './types.js';
import { rootOf, warnOf } from './defaults.js';
import { makePipes, type ProcessPipes } from './pipes.js';
import { containerSource, networkOption, sourceOptions } from './source.js';
import type { ContainerSpec } from './types.js';
import { giveUpTaken, takeWarm } from '../process/warm-init.js';
import { reportWait } from './busy.js';
import { cgroupHostOfProcess, hostViewOfProcess, planMemoOfProcess } from './host-facts.js';
import { keepSpareStateDirs } from '../state/spare-dirs.js';

export interface CreatedWithPipes {
  id: string;
  warn: (message: string) => void;
  pipes: ProcessPipes;
  created: CreatedContainer;
}

export async function createWithPipes(
  spec: ContainerSpec, opts: CommonOptions, pipes: () => ProcessPipes,
  /** Called with the id before anything is made (run()'s abort check). */
  beforeCreate: (id: string) => void = () => {},
): Promise<CreatedWithPipes> {
  keepSpareStateDirs(); // this process makes containers by the hundred: see there
  const warn = warnOf(opts);
  const source = containerSource(spec, { warn, ...(opts.session ? { session: opts.session } : {}) });
  // Without an id of the caller's, the container takes the one its warm init was made for (if any).
  const warm = spec.id === undefined && opts.warm !== false;
  const taken = warm ? takeWarm(source.label) : undefined;
  const id = spec.id ?? taken?.id ?? generatedId(source.label);
  let network: Awaited<ReturnType<typeof networkOption>>;
  let made: ProcessPipes;
  try {
    beforeCreate(id);
    network = await networkOption(spec);
    made = pipes();
  } catch (err) {
    if (taken) giveUpTaken(taken.ready);
    throw err;
  }
  let created: CreatedContainer;
  try {
    created = await createContainer({
      id, root: rootOf(opts), foreground: true, startedByCaller: true, stdio: made.fds, warn, ...sourceOptions(source), ...network,
      onWorker: true, quickReportMs: reportWait, cgroupHost: cgroupHostOfProcess, hostView: hostViewOfProcess, planMemo: planMemoOfProcess,
      ...(warm ? { warm: { label: source.label, nextId: () => generatedId(source.label), ...(taken ? { taken: taken.ready } : {}) } } : {}),
    });
  } catch (err) {
    made.abandon();
    throw err;
  }
  made.handedOver();
  return { id, warn, pipes: made, created };
}
