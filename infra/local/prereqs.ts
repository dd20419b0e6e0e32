import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** A missing system prerequisite; the message says exactly what to run. */
export class PrerequisiteError extends Error {
  override readonly name = "PrerequisiteError";
}

export const SOFTHSM_MODULE_PATHS = [
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
  "/usr/lib64/pkcs11/libsofthsm2.so",
];

const INSTALL_SOFTHSM = "sudo apt-get update && sudo apt-get install -y softhsm2";
const INSTALL_JAVA = "sudo apt-get update && sudo apt-get install -y openjdk-17-jre-headless";

const findSofthsm = (override: string | undefined): string | undefined =>
  override ? (existsSync(override) ? override : undefined) : SOFTHSM_MODULE_PATHS.find((p) => existsSync(p));

const canAptInstall = (): boolean =>
  process.getuid?.() === 0 && existsSync("/etc/debian_version") && spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;

/**
 * The SoftHSM2 PKCS#11 module's path. When it is missing, installs it with apt-get if running
 * as root on Debian/Ubuntu; otherwise stops with the exact command to run.
 */
export function ensureSofthsm(override = process.env.TETHER_PKCS11_MODULE, say: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const found = findSofthsm(override);
  if (found) return found;
  if (override) throw new PrerequisiteError(`TETHER_PKCS11_MODULE names a file that does not exist: ${override}`);
  if (!canAptInstall()) {
    throw new PrerequisiteError(`SoftHSM2 is not installed. Install it with:\n    ${INSTALL_SOFTHSM}`);
  }
  say("SoftHSM2 is not installed: installing it with apt-get (softhsm2)…");
  const installed = aptInstall("softhsm2") ? findSofthsm(undefined) : undefined;
  if (!installed) throw new PrerequisiteError(`installing SoftHSM2 failed. Install it with:\n    ${INSTALL_SOFTHSM}`);
  return installed;
}

/** `apt-get update && apt-get install -y <pkg>`, quietly; true if both succeeded. */
function aptInstall(pkg: string): boolean {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  return update.status === 0 && spawnSync("apt-get", ["install", "-y", "-qq", pkg], { stdio: "inherit", env }).status === 0;
}

const AWS_CLI = "/usr/bin/aws";
const INSTALL_AWS_CLI = "sudo apt-get update && sudo apt-get install -y awscli";
const isAwsCliV2 = (): boolean => existsSync(AWS_CLI) && /^aws-cli\/2\./.test(spawnSync(AWS_CLI, ["--version"], { encoding: "utf8" }).stdout ?? "");

/** AWS CLI v2 from Debian's `awscli` package (what the wire-compatibility test drives); installed like SoftHSM2 when missing. */
export function ensureAwsCli(say: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  if (isAwsCliV2()) return AWS_CLI;
  if (!canAptInstall()) throw new PrerequisiteError(`AWS CLI v2 (${AWS_CLI}) is not installed. Install it with:\n    ${INSTALL_AWS_CLI}`);
  say("AWS CLI v2 is not installed: installing it with apt-get (awscli)…");
  if (!aptInstall("awscli") || !isAwsCliV2()) throw new PrerequisiteError(`installing the AWS CLI failed. Install it with:\n    ${INSTALL_AWS_CLI}`);
  return AWS_CLI;
}

const onPath = (command: string): boolean => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;

/**
 * A command the test suite drives (gcc builds the fault-injecting PKCS#11 shim; curl signs SigV4
 * requests as a third-party client): installed from Debian's package when missing and running as
 * root, or a stop with the exact command to run.
 */
export function ensureCommand(command: "gcc" | "curl", say: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
  if (onPath(command)) return;
  const install = `sudo apt-get update && sudo apt-get install -y ${command}`;
  if (!canAptInstall()) throw new PrerequisiteError(`${command} is not installed. Install it with:\n    ${install}`);
  say(`${command} is not installed: installing it with apt-get…`);
  if (!aptInstall(command) || !onPath(command)) throw new PrerequisiteError(`installing ${command} failed. Install it with:\n    ${install}`);
}

/** Parses `java -version` output ("17.0.15", "1.8.0_392", "21") into a major version. */
export function javaMajor(versionOutput: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] ? Number(m[2]) : first;
}

/** DynamoDB Local needs Java 17 or newer. */
export function ensureJava(): void {
  const run = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (run.error || run.status !== 0) {
    throw new PrerequisiteError(`Java 17+ is required for DynamoDB Local and no java was found. Install it with:\n    ${INSTALL_JAVA}`);
  }
  const major = javaMajor(`${run.stderr}${run.stdout}`);
  if (major === undefined || major < 17) {
    throw new PrerequisiteError(
      `Java 17+ is required for DynamoDB Local; found ${major ?? "an unknown version"}. Install it with:\n    ${INSTALL_JAVA}`,
    );
  }
}
