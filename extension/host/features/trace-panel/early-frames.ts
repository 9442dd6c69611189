// Extension host: records frames that arrive before their subscription's id is known here (they can come
// in the same read as the subscribe answer). Held unacknowledged, then replayed to the owner that claims
// the id; frames of other owners on the same client are theirs to acknowledge.
import type { RecordsFrame } from '../../../formats/frames';

export class EarlyFrames {
  private held: RecordsFrame[] = [];

  constructor(private readonly max = 64) {}

  hold(frame: RecordsFrame): void {
    this.held.push(frame);
    if (this.held.length > this.max) this.held.shift();
  }

  /** Takes the held frames of `subscription`, oldest first. */
  claim(subscription: number): RecordsFrame[] {
    const mine = this.held.filter((f) => f.subscription === subscription);
    if (mine.length) this.held = this.held.filter((f) => f.subscription !== subscription);
    return mine;
  }
}
