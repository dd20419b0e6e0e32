import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";

/**
 * Every process a test file starts is recorded by PID under the run's state directory, so the
 * run's global teardown can stop any that a failed or timed-out test left behind.
 */
const dir = (stateDir: string) => join(stateDir, "children");

export function recordChild(child: ChildProcess): void {
  const stateDir = process.env.TETHER_TEST_STATE_DIR;
  if (!stateDir || child.pid === undefined) return;
  mkdirSync(dir(stateDir), { recursive: true });
  const file = join(dir(stateDir), String(child.pid));
  writeFileSync(file, "");
  child.once("exit", () => rmSync(file, { force: true }));
}

/** SIGKILLs every recorded process still running; returns their PIDs. */
export function killRecordedChildren(stateDir: string): number[] {
  let pids: number[];
  try {
    pids = readdirSync(dir(stateDir)).map(Number).filter(Number.isInteger);
  } catch {
    return [];
  }
  const killed: number[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
      killed.push(pid);
    } catch {
      // already gone
    }
  }
  return killed;
}
