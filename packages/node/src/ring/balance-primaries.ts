/**
 * Picks each partition's primary among its owners so primaries spread evenly
 * too. With the best-scored owner as primary, members that rank first for many
 * partitions would be primary of far more than their share (2.4x the mean at
 * 1000 members x 4096 partitions x 2), and the primary coordinates every write. Primaries are a
 * second stable assignment restricted to each partition's owners, with
 * per-member primary caps; it only reorders owners, so it never moves data.
 */

import type { OwnerSlots } from './bounded-matching.js';
import { MemberHeaps, OFFER_ACCEPTED, OFFER_REJECTED } from './member-heaps.js';

/**
 * Moves each partition's chosen primary to the front of its row; the other owners
 * keep their score order.
 * @param caps most primaries per member (index = member).
 */
export function balancePrimaries(slots: OwnerSlots, partitionCount: number, caps: ArrayLike<number>): void {
  const { replicas: k, member, score } = slots;
  if (k === 1) return; // one owner: nothing to choose
  const heaps = new MemberHeaps(caps);
  const next = new Int32Array(partitionCount); // next owner (row position) each partition asks
  const stack = new Int32Array(partitionCount);
  let top = 0;
  for (let p = partitionCount - 1; p >= 0; p--) stack[top++] = p;
  while (top > 0) {
    const p = stack[--top]!;
    while (next[p]! < k) {
      const at = p * k + next[p]!++;
      const result = heaps.offer(member[at]!, p, score[at]!);
      if (result === OFFER_REJECTED) continue;
      if (result !== OFFER_ACCEPTED) stack[top++] = result; // displaced: asks its next owner
      break;
    }
  }
  // Row position of each primary, read back from the heaps.
  const chosen = new Int32Array(partitionCount).fill(-1);
  const counts = new Int32Array(caps.length); // primaries per member
  for (let i = 0; i < caps.length; i++) {
    counts[i] = heaps.size(i);
    for (let j = 0; j < heaps.size(i); j++) {
      const p = heaps.partitionAt(i, j);
      for (let r = 0; r < k; r++) if (member[p * k + r] === i) chosen[p] = r;
    }
  }
  // Every owner refused (all full of primaries they prefer; happens when the owners of
  // a few partitions are all popular): the least-loaded owner takes it above its cap.
  for (let p = 0; p < partitionCount; p++) {
    if (chosen[p] !== -1) continue;
    let best = 0;
    for (let r = 1; r < k; r++) if (counts[member[p * k + r]!]! < counts[member[p * k + best]!]!) best = r;
    chosen[p] = best;
    counts[member[p * k + best]!]!++;
  }
  for (let p = 0; p < partitionCount; p++) {
    const r = chosen[p]!;
    if (r === 0) continue;
    const row = p * k;
    const m = member[row + r]!;
    const s = score[row + r]!;
    for (let j = r; j > 0; j--) {
      member[row + j] = member[row + j - 1]!;
      score[row + j] = score[row + j - 1]!;
    }
    member[row] = m;
    score[row] = s;
  }
}
