import { LRUCache } from "lru-cache";

type Options<K extends NonNullable<unknown>, V extends NonNullable<unknown>> = Omit<LRUCache.Options<K, V, unknown>, "max" | "maxSize" | "sizeCalculation"> & { max: number };

/**
 * Every cache in the functions: an LRU of at most `max` entries whose storage grows as it fills.
 * lru-cache preallocates `max` slots (and their TTL arrays) when bounded by `max`; Tether's
 * bounds are generous (100,000 keys), which cost ~130 ms and megabytes at every start, a Lambda
 * cold start included. Bounding by `maxSize` with one unit per entry keeps the bound, lazily.
 */
export function boundedLru<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(o: Options<K, V>): LRUCache<K, V> {
  const { max, ...rest } = o;
  return new LRUCache<K, V>({ ...rest, maxSize: max, sizeCalculation: () => 1 } as LRUCache.Options<K, V, unknown>);
}
