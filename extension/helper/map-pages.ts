// map/dump: whole-map reads in pages. Pages are read with batch lookups on a worker thread, and right
// after a page is read the next one is requested, so the kernel copies page N+1 while the helper encodes
// and sends page N (a dump is never atomic anyway). Only a request for exactly that continuation uses the
// prefetched page; first pages are always read fresh. Map types without batch ops are read with
// MapHandle.lookupBatch, which walks keys.
import type { BatchRead, MapHandle, NativeAddon } from '../../native/types';
import { perCpuSlot } from '../formats/btf-decode';
import { isPerCpuMapType } from '../formats/map-types';
import type { MapDumpParams, MapDumpResult } from '../protocol/methods';

const EINVAL = 22;
const EOPNOTSUPP = 95;
const ENOTSUPP = 524;
/** A prefetched page nobody asked for within this long is dropped. */
const PREFETCH_TTL_MS = 5000;

function pageKey(mapId: number, count: number, cursor: Buffer | string | undefined): string {
  return `${mapId}:${count}:${Buffer.isBuffer(cursor) ? cursor.toString('base64') : cursor}`;
}

/** Opens a map by id for one use and always closes it again. */
export function withOpenMap<R>(native: NativeAddon, mapId: number, use: (map: MapHandle) => R): R {
  const map = native.openMap(mapId);
  try {
    return use(map);
  } finally {
    map.close();
  }
}

export class MapPages {
  private readonly withoutBatchOps = new Set<number>();
  private prefetched: { key: string; page: Promise<BatchRead | undefined>; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly native: NativeAddon) {}

  private withMap<R>(mapId: number, use: (map: MapHandle) => R): R {
    return withOpenMap(this.native, mapId, use);
  }

  async dump(p: MapDumpParams): Promise<MapDumpResult> {
    const cursor = p.cursor === undefined ? undefined : Buffer.from(p.cursor, 'base64');
    const shape = this.withMap(p.mapId, (map) => ({
      keySize: map.info.keySize,
      valueSize: map.userValueSize,
      perCpu: isPerCpuMapType(map.info.type) ? map.userValueSize / perCpuSlot(map.info.valueSize) : 0,
    }));
    const prefetched = this.prefetched;
    const hit =
      p.cursor !== undefined && prefetched?.key === pageKey(p.mapId, p.count, p.cursor) ? prefetched.page : undefined;
    clearTimeout(prefetched?.timer);
    this.prefetched = undefined;

    let page: BatchRead | undefined = hit ? await hit : undefined;
    if (!page && !this.withoutBatchOps.has(p.mapId)) {
      try {
        page = await this.native.lookupBatchAsync(p.mapId, p.count, cursor);
      } catch (error) {
        const errno = (error as { errno?: number }).errno;
        if (cursor !== undefined || (errno !== EINVAL && errno !== ENOTSUPP && errno !== EOPNOTSUPP)) throw error;
        this.withoutBatchOps.add(p.mapId);
      }
    }
    page ??= this.withMap(p.mapId, (map) => map.lookupBatch(p.count, cursor));
    if (page.next && !this.withoutBatchOps.has(p.mapId)) {
      this.prefetched = {
        key: pageKey(p.mapId, p.count, page.next),
        // A failed prefetch is forgotten: the client's own request reads the page again and reports.
        page: this.native.lookupBatchAsync(p.mapId, p.count, page.next).catch(() => undefined),
        timer: setTimeout(() => (this.prefetched = undefined), PREFETCH_TTL_MS),
      };
    }
    return {
      ...shape,
      count: page.count,
      keys: page.keys.toString('base64'),
      values: page.values.toString('base64'),
      cursor: page.next?.toString('base64'),
    };
  }
}
