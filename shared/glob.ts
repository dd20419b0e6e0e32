/**
 * Glob patterns (`*` any run of characters, `?` exactly one, everything else literal), matched
 * without backtracking: the pattern becomes a bit-parallel NFA (one bit per pattern position) and
 * the text is read once, so a match costs O(|text| × |pattern| / 32) whatever the pattern — a
 * hostile `*?*?*?…#` costs what any other pattern of its length costs. Policies, condition
 * values and the connector's label allow-list all match through this; never through a RegExp
 * built from caller input. The usual shapes skip the NFA: a literal compares, a prefix (a
 * trailing `*`) compares the start.
 */
export type Glob = { readonly pattern: string; test(text: string): boolean };

export const MAX_GLOB_LENGTH = 4096;

const WORD = 32;

/** A pattern's shape: "literal" (no wildcard), "prefix" (wildcards only as trailing `*`s), or "general". */
export function globShape(pattern: string): { shape: "literal" | "prefix" | "general"; head: string } {
  let end = pattern.length;
  while (end > 0 && pattern[end - 1] === "*") end--;
  const head = pattern.slice(0, end);
  if (head.includes("*") || head.includes("?")) return { shape: "general", head };
  return { shape: end === pattern.length ? "literal" : "prefix", head };
}

export function compileGlob(pattern: string, opts: { ignoreCase?: boolean } = {}): Glob {
  if (pattern.length > MAX_GLOB_LENGTH) throw new RangeError(`a glob pattern has at most ${MAX_GLOB_LENGTH} characters`);
  const fold = (s: string) => (opts.ignoreCase ? s.toLowerCase() : s);
  const { shape, head } = globShape(pattern);
  const folded = fold(head);
  if (shape === "literal") return { pattern, test: (text) => fold(text) === folded };
  if (shape === "prefix") return { pattern, test: (text) => fold(text).startsWith(folded) };
  // Consecutive stars mean what one star means; collapsing them keeps the closure to one shift.
  const tokens = [...fold(pattern)].filter((ch, i, all) => !(ch === "*" && all[i - 1] === "*"));
  const states = tokens.length + 1;
  const words = Math.ceil(states / WORD);
  const mask = () => new Uint32Array(words);
  const set = (m: Uint32Array, bit: number) => (m[bit >>> 5] = (m[bit >>> 5] ?? 0) | (1 << (bit & 31)));

  const star = mask();
  const any = mask();
  const literal = new Map<string, Uint32Array>();
  tokens.forEach((t, j) => {
    if (t === "*") set(star, j);
    else if (t === "?") set(any, j);
  });
  tokens.forEach((t, j) => {
    if (t === "*" || t === "?") return;
    let m = literal.get(t);
    if (!m) literal.set(t, (m = Uint32Array.from(any)));
    set(m, j);
  });
  const accept = tokens.length;

  /** d |= (d & star) << 1: a star may match nothing. */
  const close = (d: Uint32Array) => {
    let carry = 0;
    for (let w = 0; w < words; w++) {
      const starred = (d[w] as number) & (star[w] as number);
      const shifted = ((starred << 1) | carry) >>> 0;
      carry = starred >>> 31;
      d[w] = ((d[w] as number) | shifted) >>> 0;
    }
  };

  return {
    pattern,
    test(text: string): boolean {
      let d = mask();
      let next = mask();
      set(d, 0);
      close(d);
      for (const ch of fold(text)) {
        const m = literal.get(ch) ?? any;
        let carry = 0;
        let alive = 0;
        for (let w = 0; w < words; w++) {
          const cur = d[w] as number;
          const advanced = cur & (m[w] as number);
          // A position that read this character moves on; a star stays where it is.
          const v = (((advanced << 1) | carry) | (cur & (star[w] as number))) >>> 0;
          carry = advanced >>> 31;
          next[w] = v;
          alive |= v;
        }
        if (alive === 0) return false;
        close(next);
        [d, next] = [next, d];
      }
      return (((d[accept >>> 5] as number) >>> (accept & 31)) & 1) === 1;
    },
  };
}

/** Whether `text` matches any of the patterns. */
export const anyGlob = (globs: readonly Glob[], text: string): boolean => globs.some((g) => g.test(text));
