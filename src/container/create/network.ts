// Create, phase 4: the container on its CNI network (--network bridge[:NAME]), while the init waits,
// set up, before it can exec — and before the creation hooks, which may want its address. Attaching
// records itself first (network.json, then the namespace pin, then each plugin's result), so a tsrun
// killed in the middle leaves what `delete` needs to undo it; a plugin that fails is undone by
// attach itself. Once attached, the undo is DEL of every plugin, last first, and the pin.
import type { ContainerProcess } from '../../process/parent.js';
import type { CreateContext } from './context.js';
import type { Prepared } from './prepare.js';

export async function attachToNetwork(ctx: CreateContext, p: Prepared, init: ContainerProcess): Promise<void> {
  if (!p.network?.cni) return;
  const { attachPrepared, detachNetwork } = await import('../../network/phase.js');
  const stateDir = ctx.store.dir(ctx.opts.id);
  await attachPrepared(p.network, { stateDir, containerId: ctx.opts.id, pid: init.pid, trace: ctx.trace });
  ctx.undo.push(`the container's place on network ${p.network.cni.network.name} (CNI DEL)`, () => detachNetwork(stateDir, { trace: ctx.trace, bestEffort: true }));
}
