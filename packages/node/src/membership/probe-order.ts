/**
 * Which member this node probes next: round-robin over a shuffled list of
 * live members, reshuffled each round, with new members inserted at a random
 * place in the current round. Every member is probed once per round (a bound
 * on detection time), in an order no two nodes share.
 */
import { isLive, type Member } from './member.js';
import { type Random, shuffle } from './random.js';

/** Round-robin probe order over shuffled rounds. */
export class ProbeOrder {
  private order: string[] = []; // member ids of the current round
  private index = 0; // next position in `order`

  constructor(private readonly random: Random) {}

  /** The next live member to probe, or undefined when there is none. */
  next(lookup: (id: string) => Member | undefined, liveIds: () => string[]): Member | undefined {
    for (let pass = 0; pass < 2; pass++) {
      while (this.index < this.order.length) {
        const m = lookup(this.order[this.index++]!);
        if (m !== undefined && isLive(m)) return m;
      }
      this.order = shuffle(liveIds(), this.random);
      this.index = 0;
    }
    return undefined;
  }

  /** Adds a new member at a random place among those not yet probed this round. */
  insert(id: string): void {
    const at = this.index + Math.floor(this.random.next() * (this.order.length - this.index + 1));
    this.order.splice(at, 0, id);
  }
}
