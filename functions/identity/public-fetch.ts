import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP } from "node:net";
import { dependencyFault, dependencyTimeout, remainingMs } from "../deadline.js";

const JWKS = "the issuer's JWKS endpoint";

/**
 * Fetching a tenant's JWKS without becoming a way into Tether's own network (SSRF): outside the
 * dev stage the URL must be https and every address its host resolves to must be public — no
 * loopback, link-local (the cloud metadata service), private, shared or reserved range. The
 * check runs in the connection's own DNS lookup, so the address vetted is the address connected
 * to (a name that re-resolves to 127.0.0.1 between a check and the connect gains nothing).
 */
const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.0.0.0", 24],
  ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 3],
] as const) NOT_PUBLIC.addSubnet(net, bits, "ipv4");
// ::/96 also holds the deprecated IPv4-compatible form (::127.0.0.1); 2002::/16 (6to4) and 64:ff9b::/96 embed an IPv4 address; fec0::/10 is the deprecated site-local range.
for (const [net, bits] of [["::", 96], ["64:ff9b::", 96], ["100::", 64], ["2001::", 23], ["2001:db8::", 32], ["2002::", 16], ["fc00::", 7], ["fe80::", 10], ["fec0::", 10], ["ff00::", 8]] as const) {
  NOT_PUBLIC.addSubnet(net, bits, "ipv6");
}

/** Whether an IP address is publicly routable (an IPv4-mapped IPv6 address is judged by its IPv4 part). */
export function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  const family = isIP(ip);
  return family !== 0 && !NOT_PUBLIC.check(ip, family === 6 ? "ipv6" : "ipv4");
}

/** Why a JWKS URL may not be used at this stage, or undefined if it may. */
export function jwksUrlProblem(url: string, allowPrivate: boolean): string | undefined {
  const u = URL.parse(url);
  if (!u) return "not a URL";
  if (allowPrivate) return u.protocol === "https:" || u.protocol === "http:" ? undefined : "an http(s) URL";
  if (u.protocol !== "https:") return "an https URL";
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost")) return "a public host (not localhost)";
  if (isIP(host) && !isPublicAddress(host)) return "a public address (not loopback, link-local or private)";
  return undefined;
}

type Lookup = (hostname: string, options: { all: true }, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export type PublicFetchOptions = { allowPrivate: boolean; timeoutMs: number; maxBytes?: number; lookup?: Lookup };

/**
 * A fetch (the shape jose's `customFetch` expects) that connects only to public addresses unless
 * `allowPrivate`, and waits at most `timeoutMs` and never past the request's deadline: out of
 * time or unreachable, it fails with Tether's dependency errors (503), not as a bad token.
 */
export function publicOnlyFetch(o: PublicFetchOptions) {
  const resolve: Lookup = o.lookup ?? ((host, options, cb) => dnsLookup(host, options, cb));
  const maxBytes = o.maxBytes ?? 256 * 1024;
  return (url: string, init: { headers?: Headers; signal?: AbortSignal }): Promise<Response> => {
    const problem = jwksUrlProblem(url, o.allowPrivate);
    if (problem) return Promise.reject(new Error(`JWKS URL refused: it must be ${problem}`));
    const u = new URL(url);
    const send = u.protocol === "https:" ? httpsRequest : httpRequest;
    const left = Math.min(o.timeoutMs, remainingMs(o.timeoutMs));
    if (left <= 0) return Promise.reject(dependencyTimeout(JWKS));
    const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(left)]) : AbortSignal.timeout(left);
    return new Promise<Response>((done, fail) => {
      const req = send(
        u,
        {
          method: "GET",
          headers: init.headers ? Object.fromEntries(init.headers) : {},
          timeout: left,
          signal,
          lookup: (hostname, _options, cb) =>
            resolve(hostname, { all: true }, (err, addresses) => {
              if (err) return cb(err, "", 0);
              const usable = o.allowPrivate ? addresses : addresses.filter((a) => isPublicAddress(a.address));
              const first = usable[0];
              if (!first || usable.length !== addresses.length) return cb(new Error(`${hostname} resolves to an address that is not public`), "", 0);
              cb(null, first.address, first.family);
            }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) req.destroy(new Error(`the JWKS is larger than ${maxBytes} bytes`));
            else chunks.push(chunk);
          });
          res.on("end", () => done(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 502, headers: { "content-type": String(res.headers["content-type"] ?? "") } })));
          res.on("error", (err) => fail(dependencyFault(JWKS, err)));
        },
      );
      req.on("timeout", () => req.destroy(dependencyTimeout(JWKS)));
      req.on("error", (err) => fail(dependencyFault(JWKS, err)));
      req.end();
    });
  };
}
