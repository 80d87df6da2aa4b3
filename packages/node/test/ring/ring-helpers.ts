/**
 * Measurements shared by the ring tests: copies per member and the fraction of
 * partition copies that moved between two owner tables.
 */

/** Realistic member ids (`10.<set>.x.y:7400`); `set` makes independent clusters. */
export function memberIds(count: number, set = 0): string[] {
  return Array.from({ length: count }, (_, i) => `10.${set}.${i >> 8}.${i & 255}:7400`);
}

/** Copies held per member id (members holding none are absent). */
export function copiesPerMember(owners: readonly (readonly string[])[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of owners) for (const id of row) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** Largest copy count over the mean copy count of `memberCount` members. */
export function maxOverMean(owners: readonly (readonly string[])[], memberCount: number): number {
  const counts = [...copiesPerMember(owners).values()];
  const total = counts.reduce((a, b) => a + b, 0);
  return Math.max(...counts) / (total / memberCount);
}

/** Primaries of the busiest member over the mean. */
export function primaryMaxOverMean(owners: readonly (readonly string[])[], memberCount: number): number {
  return maxOverMean(
    owners.map((row) => row.slice(0, 1)),
    memberCount,
  );
}

/** Copies in `next` that were not on the same member in `old`, over all copies of `next`. */
export function movedFraction(old: readonly (readonly string[])[], next: readonly (readonly string[])[]): number {
  let moved = 0;
  let total = 0;
  next.forEach((row, p) => {
    for (const id of row) if (!old[p]!.includes(id)) moved++;
    total += row.length;
  });
  return moved / total;
}
