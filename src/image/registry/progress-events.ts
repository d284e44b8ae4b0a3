// What a pull reports while it runs (PullOptions.onProgress): the library's progress events, and
// what the CLI draws (progress.ts).

/**
 * queued: not started yet (every layer is reported so at the start); waiting: for the layer's lock (another pull may be fetching it); exists: already in the store,
 * nothing fetched; downloading: bytes flowing (`bytes` so far, compressed); resuming: the connection
 * broke at `bytes`, a Range request continues from there; done: verified and in the store.
 */
export type LayerState = 'queued' | 'waiting' | 'exists' | 'downloading' | 'resuming' | 'done';

export type PullEvent =
  | { type: 'manifest'; reference: string; endpoint: string; digest: string; layers: number }
  | { type: 'layer'; index: number; count: number; digest: string; diffId: string; size: number; state: LayerState; bytes: number; reason?: string }
  | { type: 'done'; reference: string; id: string; downloaded: number; ms: number };
