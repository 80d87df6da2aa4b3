/**
 * What the failure-detection and false-suspicion tests conclude from the nodes'
 * membership observations (pure functions, unit-tested): how long after a
 * SIGKILL each survivor first suspected and then buried the victim, and which
 * suspicions or deaths of members that were alive all along were reported.
 */
import type { Observation } from './worker-protocol.js';

/** One survivor's view of one kill. */
export interface DetectionSample {
  readonly observer: string;
  /** ms from the kill to the first 'suspect' of the victim seen by this observer; null: never (or straight to dead). */
  readonly suspectMs: number | null;
  /** ms from the kill to 'dead'; null: not within the deadline. */
  readonly deadMs: number | null;
}

/**
 * For each survivor, the first suspect and the first dead observation of the
 * victim at or after the kill. A survivor that learned of the death directly
 * (gossip) without suspecting first gets `suspectMs` null.
 */
export function detectionSamples(
  observations: readonly Observation[],
  victim: string,
  killAt: number,
  survivors: readonly string[],
): DetectionSample[] {
  return survivors.map((observer) => {
    const mine = observations.filter((o) => o.observer === observer && o.member === victim && o.at >= killAt);
    const first = (state: Observation['to']): number | null => {
      let best: number | null = null;
      for (const o of mine) if (o.to === state && (best === null || o.at < best)) best = o.at;
      return best === null ? null : best - killAt;
    };
    return { observer, suspectMs: first('suspect'), deadMs: first('dead') };
  });
}

/**
 * Observations, made at or after `since`, that put a member of `live` (alive
 * throughout) in state suspect or dead.
 */
export function falseSuspicions(
  observations: readonly Observation[],
  live: readonly string[],
  since: number,
): Observation[] {
  return observations.filter(
    (o) => o.at >= since && live.includes(o.member) && (o.to === 'suspect' || o.to === 'dead'),
  );
}
