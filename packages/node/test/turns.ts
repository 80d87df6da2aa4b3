/**
 * Runs `work` and counts the event-loop turns (check phases) that ran before
 * it finished: 0 for work done in one synchronous go, more for work that
 * yields. Tests of the scans that must not stall a node use it.
 */
export async function turnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let counting = true;
  const tick = () => {
    turns++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    const result = await work();
    return { result, turns };
  } finally {
    counting = false;
  }
}
