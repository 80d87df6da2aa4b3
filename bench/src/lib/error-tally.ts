/** Failed calls of a load loop: how many, and the first one's message (the rest are usually the same). */
export class ErrorTally {
  count = 0;
  first: string | null = null;

  /** Counts a failure; usable as a `.catch` handler, so one failed call does not stop the loop. */
  readonly note = (err: unknown): void => {
    this.count++;
    this.first ??= String((err as Error)?.message ?? err);
  };
}
