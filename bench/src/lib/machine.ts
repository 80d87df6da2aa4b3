/**
 * What the numbers were measured on, recorded in every results file: results
 * from different machines (or a loaded one) are not comparable.
 */
import os from 'node:os';

export interface MachineInfo {
  readonly cpuModel: string;
  /** Logical cores. */
  readonly cores: number;
  readonly nodeVersion: string;
  readonly v8Version: string;
  readonly platform: string;
  readonly arch: string;
  readonly totalMemoryBytes: number;
  /** 1, 5 and 15 minute load averages when the run started (a loaded machine gives noisy numbers). */
  readonly loadAverage: readonly number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    nodeVersion: process.version,
    v8Version: process.versions.v8,
    platform: os.platform(),
    arch: os.arch(),
    totalMemoryBytes: os.totalmem(),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
