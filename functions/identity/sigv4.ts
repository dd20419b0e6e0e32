import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { boundedLru, loadingLru } from "../lru.js";
import type { CallOpts, KeyWrapping } from "../../shared/hsm/port.js";
import { wrappedFromWire, wrappedToWire } from "../../shared/protocol/codec.js";
import type { AuthGate } from "./auth-throttle.js";
import type { AuthRequest, AuthScheme } from "./authenticator.js";
import type { Principal } from "./principal.js";
import { AuthFailure, type PrincipalDirectory } from "./principals.js";
import type { AccessKeyRecord, IdentityStore } from "./store.js";

/** AWS's `AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request, SignedHeaders=…, Signature=…`. */
const HEADER = /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{20,30})\/(\d{8})\/([a-z0-9-]{1,32})\/([a-z0-9-]{1,32})\/aws4_request, ?SignedHeaders=([a-z0-9;._-]{1,1024}), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
export const MAX_SKEW_MS = 5 * 60_000;
/** A scheme for requests signed in any region (XKS: AWS KMS signs in the region the call came from); the signature covers the region it names. */
export const ANY_REGION = "*";

/** Access key ids look like AWS's: a fixed prefix and 16 upper-case base32 characters. */
export function newAccessKey(): { accessKeyId: string; secretAccessKey: string } {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const id = [...randomBytes(16)].map((b) => alphabet[b % 32]).join("");
  // 264 random bits in 44 characters: what AWS asks of an XKS credential's secret (43–64), fine for the KMS API too.
  return { accessKeyId: `TTHA${id}`, secretAccessKey: randomBytes(33).toString("base64").replace(/\+/g, "A").replace(/\//g, "B") };
}

/** A new access key for a principal: its secret is returned once and stored only wrapped by the HSM root key. */
export async function issueAccessKey(store: IdentityStore, hsm: KeyWrapping, owner: { tenant: string; principalId: string; service?: AccessKeyRecord["service"] }, call: CallOpts) {
  const key = newAccessKey();
  const secret = Buffer.from(key.secretAccessKey);
  try {
    const wrapped = await hsm.wrap(secret, accessKeyBinding(owner.tenant, key.accessKeyId), call);
    const createdAt = new Date().toISOString();
    await store.putAccessKey({ accessKeyId: key.accessKeyId, tenant: owner.tenant, principalId: owner.principalId, wrappedSecret: wrappedToWire(wrapped), createdAt, ...(owner.service ? { service: owner.service } : {}) });
    return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, principalId: owner.principalId, createdAt };
  } finally {
    secret.fill(0);
  }
}

/** What binds a wrapped secret to its access key: moved to another item, it no longer unwraps. */
export const accessKeyBinding = (tenant: string, accessKeyId: string): Uint8Array => Buffer.from(`tether-access-key\n${tenant}\n${accessKeyId}`);


/**
 * SigV4 access keys: the signature is recomputed with AWS's own algorithm (@smithy/signature-v4)
 * over the request as received and compared in constant time. The secret is unwrapped by the HSM
 * on first use and kept (zeroed on eviction) for `secretTtlMs`. The request date must be within
 * 5 minutes, the scope must name this region and `kms`, and a signature is accepted once: a
 * replay within the window is refused (per instance; beyond the window the date refuses it).
 */
export class SigV4Scheme implements AuthScheme {
  /** Unwrapped secrets, zeroed when they leave; one HSM unwrap per key and expiry, however many requests wait for it. */
  private readonly secrets;
  private readonly seen = boundedLru<string, true>({ max: 200_000, ttl: 2 * MAX_SKEW_MS });

  constructor(
    private readonly store: IdentityStore,
    private readonly hsm: KeyWrapping,
    private readonly directory: PrincipalDirectory,
    private readonly opts: { region: string; service?: string; now?: () => number; secretTtlMs?: number },
  ) {
    this.secrets = loadingLru<string, { record: AccessKeyRecord; secret: Buffer }, AuthGate>({
      max: 10_000,
      ttl: opts.secretTtlMs ?? 300_000,
      dispose: (v) => v.secret.fill(0),
      load: (accessKeyId, gate) => gate.run(() => this.unwrapSecret(accessKeyId)),
    });
  }

  private get service(): string {
    return this.opts.service ?? "kms";
  }

  matches(authorization: string): boolean {
    return authorization.startsWith("AWS4-HMAC-SHA256 ");
  }

  credentialIdOf(authorization: string): string {
    return /Credential=([A-Z0-9]{20,30})\//.exec(authorization)?.[1] ?? "unnamed";
  }

  /** Forgets a cached secret (after the key is deleted here). */
  forget(accessKeyId: string): void {
    this.secrets.cache.delete(accessKeyId);
  }

  async authenticate(req: AuthRequest): Promise<Principal> {
    const m = HEADER.exec(req.headers.get("authorization") ?? "");
    if (!m) throw new AuthFailure("IncompleteSignature", "the Authorization header is not a complete SigV4 signature");
    const [, accessKeyId = "", scopeDate, region, service, signedHeaderList = "", signature = ""] = m;
    const amzDate = req.headers.get("x-amz-date") ?? "";
    const d = AMZ_DATE.exec(amzDate);
    if (!d || amzDate.slice(0, 8) !== scopeDate) throw new AuthFailure("IncompleteSignature", "X-Amz-Date is missing or does not match the credential scope");
    const signedAt = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(d[4]), Number(d[5]), Number(d[6]));
    const now = (this.opts.now ?? Date.now)();
    if (Math.abs(now - signedAt) > MAX_SKEW_MS) throw new AuthFailure("SignatureExpired", "the request was signed more than 5 minutes from now");
    if ((this.opts.region !== ANY_REGION && region !== this.opts.region) || service !== this.service) throw new AuthFailure("InvalidRegion", `the credential scope must be ${this.opts.region}/${this.service}`);
    if (req.headers.has("x-amz-security-token")) throw new AuthFailure("UnrecognizedClient", "temporary AWS credentials are not Tether credentials");
    const signedHeaders = signedHeaderList.split(";");
    if (!signedHeaders.includes("host") || !signedHeaders.includes("x-amz-date")) throw new AuthFailure("IncompleteSignature", "host and x-amz-date must be signed");

    const { record, secret } = await this.secrets.get(accessKeyId, req.gate);
    // Read now: the cached buffer is zeroed when its entry leaves the cache, which may happen while this request awaits its body.
    const secretAccessKey = secret.toString("utf8");
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = req.headers.get(name);
      if (value === null) throw new AuthFailure("IncompleteSignature", `signed header ${name.slice(0, 64)} is missing`);
      headers[name] = value;
    }
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of req.url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
    }
    const body = await req.body();
    // The signature covers the body only through its hash: the hash of the body received, never a
    // hash the client states. A stated one (the JS SDK signs x-amz-content-sha256) must match it.
    const stated = req.headers.get("x-amz-content-sha256");
    if (stated !== null && stated !== createHash("sha256").update(body).digest("hex")) {
      throw new AuthFailure("InvalidSignature", stated === "UNSIGNED-PAYLOAD" || stated.startsWith("STREAMING-") ? "the payload must be signed" : "the body does not match its x-amz-content-sha256");
    }
    let path: string;
    try {
      path = decodeURIComponent(req.url.pathname);
    } catch {
      throw new AuthFailure("IncompleteSignature", "the request path is not well-formed percent-encoding");
    }
    const request = new HttpRequest({ method: req.method, protocol: req.url.protocol, hostname: req.url.hostname, path, query, headers, body });
    const signer = new SignatureV4({
      credentials: { accessKeyId, secretAccessKey },
      region: region ?? this.opts.region,
      service: this.service,
      sha256: Hash.bind(null, "sha256"),
      // Sign exactly the headers the client signed: never add x-amz-content-sha256 (botocore does not send it).
      applyChecksum: false,
    });
    const signed = await signer.sign(request, { signingDate: new Date(signedAt), signableHeaders: new Set(signedHeaders) });
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ""))?.[1] ?? "";
    if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
      throw new AuthFailure("InvalidSignature", "the request signature does not match");
    }
    if (this.seen.has(signature)) throw new AuthFailure("Replayed", "this signed request was already received");
    this.seen.set(signature, true);
    return this.directory.principalFor(record.tenant, record.principalId, accessKeyId);
  }

  private async unwrapSecret(accessKeyId: string): Promise<{ record: AccessKeyRecord; secret: Buffer }> {
    const record = await this.store.getAccessKey(accessKeyId);
    // A key signs for one service only: an XKS key store's credential is no KMS API key, nor the reverse.
    if (!record || (record.service ?? "kms") !== this.service) throw new AuthFailure("UnrecognizedClient", "the access key id is not known");
    const call = { requestId: `sigv4-${accessKeyId}`, deadline: Date.now() + 5_000 };
    const secret = Buffer.from(await this.hsm.unwrap(wrappedFromWire(record.wrappedSecret), accessKeyBinding(record.tenant, accessKeyId), call));
    return { record, secret };
  }
}
