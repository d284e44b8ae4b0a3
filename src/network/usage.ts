// Which containers of a state root are attached to a network (from their network.json).
import { StateStore } from '../state/store.js';
import { readNetworkRecord } from './record.js';

export function containersOnNetwork(root: string, network: string): string[] {
  const store = new StateStore(root);
  return store.ids().filter((id) => readNetworkRecord(store.dir(id))?.network === network);
}
