/**
 * CPU time of another process (redis-server, a node worker) read from
 * /proc/<pid>/stat, so a scenario can report server CPU per operation and not
 * only wall time. Linux only: elsewhere every read is null and the scenario
 * says so. Resolution is one clock tick (10 ms at the usual 100 Hz), which is
 * why windows are seconds long.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** User and system CPU of a process in clock ticks, as /proc/<pid>/stat has them. */
export interface ProcStatCpu {
  readonly utimeTicks: number;
  readonly stimeTicks: number;
}

/**
 * Parses utime and stime (fields 14 and 15) from the text of /proc/<pid>/stat.
 * The command name (field 2) is in parentheses and may hold spaces and ')', so
 * fields are counted from the last ')'. Returns null for anything malformed.
 */
export function parseProcStat(text: string): ProcStatCpu | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state), so field 14 is fields[11]
  const utimeTicks = Number(fields[11]);
  const stimeTicks = Number(fields[12]);
  if (!Number.isInteger(utimeTicks) || !Number.isInteger(stimeTicks) || utimeTicks < 0 || stimeTicks < 0) return null;
  return { utimeTicks, stimeTicks };
}

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK`, asked once; 100 (the Linux default) when it cannot be asked. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond !== undefined) return ticksPerSecond;
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 });
  const parsed = Number(r.stdout?.trim());
  ticksPerSecond = Number.isInteger(parsed) && parsed > 0 ? parsed : 100;
  return ticksPerSecond;
}

/** Total (user + system) CPU time of `pid` so far, in µs; null when it cannot be read (gone, not Linux). */
export function processCpuUs(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const cpu = parseProcStat(text);
  if (cpu === null) return null;
  return ((cpu.utimeTicks + cpu.stimeTicks) * 1e6) / clockTicksPerSecond();
}

/** CPU µs `pids` used together between two readings, or null if any reading failed. */
export function cpuDeltaUs(before: readonly (number | null)[], after: readonly (number | null)[]): number | null {
  let sum = 0;
  for (let i = 0; i < before.length; i++) {
    const b = before[i];
    const a = after[i];
    if (b === null || b === undefined || a === null || a === undefined) return null;
    sum += a - b;
  }
  return sum;
}

/**
 * Reads the CPU of `pids` at `fromAt` and again at `toAt` (both `Date.now()`
 * times, e.g. the start and end of a load's timed window) and resolves with
 * the µs they used in between (null if unreadable). Lets the parent measure a
 * window without asking the measured processes anything.
 */
export async function cpuInWindow(pids: readonly number[], fromAt: number, toAt: number): Promise<number | null> {
  const at = (t: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - Date.now())));
  await at(fromAt);
  const before = pids.map(processCpuUs);
  await at(toAt);
  const after = pids.map(processCpuUs);
  return cpuDeltaUs(before, after);
}
