import { LRUCache } from "lru-cache";

type Options<K extends NonNullable<unknown>, V extends NonNullable<unknown>, FC> = Omit<LRUCache.Options<K, V, FC>, "max" | "maxSize" | "sizeCalculation"> & { max: number };

/**
 * Every cache in the functions: an LRU of at most `max` entries whose storage grows as it fills.
 * lru-cache preallocates `max` slots (and their TTL arrays) when bounded by `max`; Tether's
 * bounds are generous (100,000 keys), which cost ~130 ms and megabytes at every start, a Lambda
 * cold start included. Bounding by `maxSize` with one unit per entry keeps the bound, lazily.
 */
export function boundedLru<K extends NonNullable<unknown>, V extends NonNullable<unknown>, FC = unknown>(o: Options<K, V, FC>): LRUCache<K, V, FC> {
  const { max, ...rest } = o;
  return new LRUCache<K, V, FC>({ ...rest, maxSize: max, sizeCalculation: () => 1 } as LRUCache.Options<K, V, FC>);
}

/**
 * A cache that loads each missing or expired entry once for all concurrent callers
 * (lru-cache's `fetch`): when an entry expires under load, one load runs and every request
 * waits for it, instead of each running its own (a slow hash, an HSM unwrap, a database read).
 * A load that fails fails its waiters and caches nothing. An entry deleted while it loads
 * (`forget`) still answers the requests already waiting.
 */
export function loadingLru<K extends NonNullable<unknown>, V extends NonNullable<unknown>, FC>(
  o: Omit<Options<K, V, FC>, "fetchMethod"> & { load: (key: K, context: FC) => Promise<V> },
): { get(key: K, context: FC): Promise<V>; cache: LRUCache<K, V, FC> } {
  const { load, ...rest } = o;
  const cache = boundedLru<K, V, FC>({ ...rest, ignoreFetchAbort: true, fetchMethod: (key, _stale, { context }) => load(key, context) });
  // lru-cache types `fetch` by conditional types that a generic context cannot satisfy.
  const fetch = cache.fetch.bind(cache) as (key: K, options: { context: FC }) => Promise<V | undefined>;
  return {
    cache,
    get: async (key, context) => {
      const value = await fetch(key, { context });
      if (value === undefined) throw new Error("a cache load returned nothing");
      return value;
    },
  };
}
