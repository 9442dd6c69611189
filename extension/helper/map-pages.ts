// map/dump: whole-map reads in pages, sent as binary frames (formats/frames.ts) with a short JSON answer
// that names the frame. Pages are read on a worker thread by the addon (lookupBatchAsync), which alone
// decides between batch lookups and walking keys; right after a page is read the next one is requested,
// so the kernel copies page N+1 while the helper sends page N (a dump is never atomic anyway). Only a
// request for exactly that continuation uses the prefetched page; first pages are always read fresh, and
// carry the map's info and BTF types so that opening a map is one round trip. A page is bounded in bytes.
import type { BatchRead, MapHandle, NativeAddon } from '../../native/types';
import { perCpuSlot } from '../formats/btf-decode';
import type { MapPageFrame } from '../formats/frames';
import { isPerCpuMapType, undumpableReason } from '../formats/map-types';
import { LIMITS, MapDumpParams, MapDumpResult, MapTypesResult } from '../protocol/methods';

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

/** Entries per page: what was asked, at most max_entries and at most LIMITS.mapPageBytes of keys and values. */
export function pageEntries(asked: number, keySize: number, valueSize: number, maxEntries: number): number {
  const byBytes = Math.floor(LIMITS.mapPageBytes / Math.max(1, keySize + valueSize));
  return Math.max(1, Math.min(asked, Math.max(1, maxEntries), byBytes));
}

export class MapPages {
  private prefetched: { key: string; page: Promise<BatchRead | undefined>; timer: NodeJS.Timeout } | undefined;
  private token = 0;

  constructor(
    private readonly native: NativeAddon,
    private readonly sendFrame: (frame: MapPageFrame) => void,
  ) {}

  async dump(p: MapDumpParams): Promise<MapDumpResult> {
    const cursor = p.cursor === undefined ? undefined : Buffer.from(p.cursor, 'base64');
    const first = cursor === undefined;
    const shape = withOpenMap(this.native, p.mapId, (map) => {
      let types: MapTypesResult | undefined;
      if (first) {
        try {
          types = map.btfTypes();
        } catch {
          types = { key: null, value: null };
        }
      }
      return {
        info: map.info,
        keySize: map.info.keySize,
        valueSize: map.userValueSize,
        perCpu: isPerCpuMapType(map.info.type) ? map.userValueSize / perCpuSlot(map.info.valueSize) : 0,
        types,
      };
    });
    const count = pageEntries(p.count, shape.keySize, shape.valueSize, shape.info.maxEntries);
    const head = {
      keySize: shape.keySize,
      valueSize: shape.valueSize,
      perCpu: shape.perCpu,
      ...(first ? { map: shape.info, types: shape.types } : {}),
    };
    // Types that cannot be listed answer with their description and no entries (the viewer says why).
    if (undumpableReason(shape.info.type)) return { ...head, count: 0, frame: this.send(shape, emptyPage()) };

    const prefetched = this.prefetched;
    const hit =
      p.cursor !== undefined && prefetched?.key === pageKey(p.mapId, count, p.cursor) ? prefetched.page : undefined;
    clearTimeout(prefetched?.timer);
    this.prefetched = undefined;

    const page = (hit ? await hit : undefined) ?? (await this.native.lookupBatchAsync(p.mapId, count, cursor));
    if (page.next) {
      this.prefetched = {
        key: pageKey(p.mapId, count, page.next),
        // A failed prefetch is forgotten: the client's own request reads the page again and reports.
        page: this.native.lookupBatchAsync(p.mapId, count, page.next).catch(() => undefined),
        timer: setTimeout(() => (this.prefetched = undefined), PREFETCH_TTL_MS),
      };
    }
    return { ...head, count: page.count, frame: this.send(shape, page), cursor: page.next?.toString('base64') };
  }

  /** Writes the page's frame (before the answer that names it) and returns its token. */
  private send(shape: { keySize: number; valueSize: number }, page: BatchRead): number {
    const token = (this.token = (this.token % 0x7fffffff) + 1);
    this.sendFrame({
      kind: 'mapPage',
      token,
      count: page.count,
      keySize: shape.keySize,
      valueSize: shape.valueSize,
      keys: page.keys,
      values: page.values,
    });
    return token;
  }
}

function emptyPage(): BatchRead {
  return { keys: Buffer.alloc(0), values: Buffer.alloc(0), count: 0 };
}
