// Create, phase 4: the container on its network, while the init waits, set up, before it can exec —
// and before the creation hooks, which may want its address. A CNI network (--network
// bridge[:NAME]): attaching records itself first (network.json, then the namespace pin, then each
// plugin's result), so a tsrun killed in the middle leaves what `delete` needs to undo it; a plugin
// that fails is undone by attach itself. A user-mode one (--network slirp4netns, rootless): the
// same record names the slirp4netns process before it runs (network/user-mode/start.ts). Once
// attached, the undo is detachNetwork: DEL of every plugin and the pin, or stopping slirp4netns.
import type { ContainerProcess } from '../../process/parent.js';
import type { CreateContext } from './context.js';
import type { Prepared } from './prepare.js';

export async function attachToNetwork(ctx: CreateContext, p: Prepared, init: ContainerProcess): Promise<void> {
  if (!p.network?.cni && !p.network?.userMode) return;
  const { attachPrepared, detachNetwork } = await import('../../network/phase.js');
  const stateDir = ctx.store.dir(ctx.opts.id);
  const what = p.network.cni ? `the container's place on network ${p.network.cni.network.name} (CNI DEL)` : 'the container\'s slirp4netns';
  // Pushed first: a user-mode start killed half-way has recorded its helper already.
  ctx.undo.push(what, () => detachNetwork(stateDir, { trace: ctx.trace, bestEffort: true }));
  await attachPrepared(p.network, { stateDir, containerId: ctx.opts.id, pid: init.pid, trace: ctx.trace });
}
