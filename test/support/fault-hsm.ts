import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pkcs11js from "pkcs11js";
import { ensureCommand } from "../../infra/local/prereqs.js";

/**
 * A fault-injecting PKCS#11 module for tests and benchmarks: a C shim (fault-hsm/shim.c) that
 * forwards every call to the real module (SoftHSM2 unless TETHER_FAULT_REAL_MODULE says
 * otherwise) and, as a control file tells it at run time, fails chosen calls with a chosen CK_RV
 * or sleeps before forwarding them. The shim reads its environment once, at its first
 * C_GetFunctionList (pkcs11js's load()): set `control.env` before loading it, or pass it to the
 * child process that loads it. One process loads one shim, so it serves one control file.
 */

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const source = join(repoRoot, "test/support/fault-hsm/shim.c");
const headers = join(repoRoot, "node_modules/pkcs11js/includes/pkcs11");
const HEADER_FILES = ["pkcs11.h", "pkcs11t.h", "pkcs11f.h"];
const FLAGS = ["-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-fvisibility=hidden"];
const LIBS = ["-ldl", "-lpthread"];

const built = new Map<string, string>();

/**
 * Compiles the shim into `<outDir>/libfaulthsm.so` and returns its path. A build is reused while
 * the source, the PKCS#11 headers and the flags hash the same (recorded next to the library), so
 * every test file of a run can call this. The library is written under a temporary name and
 * renamed into place: a process that already mapped the previous build keeps it intact.
 */
export function buildFaultHsm(outDir: string): string {
  const out = join(outDir, "libfaulthsm.so");
  const stamp = `${out}.sha256`;
  const hash = createHash("sha256");
  for (const file of [source, ...HEADER_FILES.map((h) => join(headers, h))]) {
    if (!existsSync(file)) throw new Error(`fault-hsm: ${file} is missing${file === source ? "" : "; run npm install (pkcs11js ships the PKCS#11 headers)"}`);
    hash.update(readFileSync(file));
  }
  const digest = hash.update([...FLAGS, ...LIBS].join(" ")).digest("hex");
  if (built.get(out) === digest) return out;
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest) {
    built.set(out, digest);
    return out;
  }

  ensureCommand("gcc");
  mkdirSync(outDir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const args = [...FLAGS, "-o", tmp, source, "-I", headers, ...LIBS];
  const gcc = spawnSync("gcc", args, { encoding: "utf8" });
  if (gcc.error && (gcc.error as NodeJS.ErrnoException).code === "ENOENT") {
    throw new Error("fault-hsm: gcc is not installed; install it with: sudo apt-get install -y gcc");
  }
  if (gcc.error || gcc.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`fault-hsm: gcc ${args.join(" ")} failed (${gcc.error?.message ?? `exit ${gcc.status}`}):\n${gcc.stderr}`);
  }
  renameSync(tmp, out);
  writeFileSync(stamp, digest);
  built.set(out, digest);
  return out;
}

/** A PKCS#11 function as the C API names it: pkcs11js's methods without its *Async twins. */
export type Pkcs11Function = Exclude<Extract<keyof pkcs11js.PKCS11, `C_${string}`>, `${string}Async`>;
/** A CK_RV by the name pkcs11js gives it. */
export type CkrName = Extract<keyof typeof pkcs11js, `CKR_${string}`>;

export type FaultControl = {
  /** The control file. */
  readonly file: string;
  /** What the process that loads the shim needs in its environment. */
  readonly env: { TETHER_FAULT_CONTROL: string };
  /**
   * The next `count` calls of `fn` (`*`: of any function but C_Initialize and C_Finalize) return
   * `ckr` without reaching the real module; -1: every call, until cleared. Replaces an earlier
   * fail rule for the same `fn`, with a fresh count. A rule for the function wins over `*`.
   */
  fail(fn: Pkcs11Function | "*", ckr: CkrName | number, count?: number): void;
  /**
   * Every call of `fn` (`*`: of every function without a delay of its own) sleeps `ms` (fractions
   * allowed) before going on; a delay of 0 for a function exempts it from the `*` delay.
   */
  delay(fn: Pkcs11Function | "*", ms: number): void;
  /** Removes every fail and delay rule. */
  clear(): void;
  /** Calls of `fn` made through the shim by every process using this control file, injected failures included. */
  calls(fn: Pkcs11Function): number;
  /** How many of those calls the shim failed. */
  injected(fn: Pkcs11Function): number;
};

const CKR = pkcs11js as unknown as Record<string, number | undefined>;
/** One record of `<control>.counts` (see shim.c): char name[32]; uint64 calls; uint64 injected. */
const RECORD = { size: 48, name: 32, calls: 32, injected: 40 };

/**
 * The controller of the shim loaded with `TETHER_FAULT_CONTROL=<file>`. It owns the file: it starts
 * it empty (no faults) and rewrites all of it atomically (temporary file, then rename) at every
 * change, so the shim never reads half a rule set. Use one controller per file.
 */
export function faultControl(file: string): FaultControl {
  const fails = new Map<string, { rv: number; label: string; count: number; id: string }>();
  const delays = new Map<string, number>();
  let writes = 0;

  const write = () => {
    const lines = ["# written by test/support/fault-hsm.ts"];
    for (const [fn, ms] of delays) lines.push(`delay ${fn} ${ms}`);
    // A fresh id per fail(): the shim carries a rule's remaining count across rewrites by id.
    for (const [fn, r] of fails) lines.push(`fail ${fn} 0x${r.rv.toString(16)} ${r.count} id=${r.id} # ${r.label}`);
    const tmp = `${file}.${process.pid}.${writes++}.tmp`;
    writeFileSync(tmp, `${lines.join("\n")}\n`);
    renameSync(tmp, file);
  };

  const counter = (fn: Pkcs11Function, offset: number): number => {
    let data: Buffer;
    try {
      data = readFileSync(`${file}.counts`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0; // no shim has loaded with this file yet
      throw err;
    }
    for (let at = 0; at + RECORD.size <= data.length; at += RECORD.size) {
      const name = data.toString("latin1", at, at + RECORD.name).replace(/\0.*$/s, "");
      if (name === fn) return Number(data.readBigUInt64LE(at + offset));
    }
    throw new Error(`fault-hsm: ${fn} is not a function the shim forwards`);
  };

  write();
  return {
    file,
    env: { TETHER_FAULT_CONTROL: file },
    fail(fn, ckr, count = 1) {
      const rv = typeof ckr === "number" ? ckr : CKR[ckr];
      if (rv === undefined || !Number.isInteger(rv) || rv < 0) throw new RangeError(`fault-hsm: ${String(ckr)} is not a CK_RV`);
      if (!Number.isInteger(count) || (count < 1 && count !== -1)) throw new RangeError(`fault-hsm: count ${count} is neither a positive integer nor -1`);
      fails.set(fn, { rv, label: typeof ckr === "string" ? ckr : `0x${rv.toString(16)}`, count, id: randomBytes(8).toString("hex") });
      write();
    },
    delay(fn, ms) {
      if (!Number.isFinite(ms) || ms < 0 || ms >= 3_600_000) throw new RangeError(`fault-hsm: delay ${ms} ms is not a duration under an hour`);
      delays.set(fn, ms);
      write();
    },
    clear() {
      fails.clear();
      delays.clear();
      write();
    },
    calls: (fn) => counter(fn, RECORD.calls),
    injected: (fn) => counter(fn, RECORD.injected),
  };
}
