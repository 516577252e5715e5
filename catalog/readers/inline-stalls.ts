// Whether a bounded plan keeps running inline (the inline lane, lane.ts), from how long its inline runs took. A bounded plan
// takes tens of microseconds; a run over STALL_MS is either the plan misjudged or the machine: V8 compiling
// the functions it calls, a collection, the thread preempted on a busy machine. STRIKES such runs in a row
// pause the plan's inline runs (the readers run it meanwhile) for a pause that doubles with each pause, from
// FIRST_PAUSE_MS up to MAX_PAUSE_MS. So a plan that really is slow stalls the lane at most STRIKES times
// per MAX_PAUSE_MS, and one whose stalls were the machine's comes back when the machine is quiet again
// (CLEAN_RUNS in a row forget its pauses), instead of staying on the slower path for good.

export const STALL_MS = 10;
export const STRIKES = 3;
export const FIRST_PAUSE_MS = 1000;
export const MAX_PAUSE_MS = 60_000;
export const CLEAN_RUNS = 1000;

export class InlineStalls {
  /** Runs over STALL_MS in a row. */
  private strikes = 0;
  /** Pauses since the plan last ran CLEAN_RUNS times in a row within STALL_MS. */
  private pauses = 0;
  private cleanRuns = 0;
  /** performance.now() until which the plan runs on the readers. */
  private until = 0;

  /** Whether the plan is to go to the readers at `now`. */
  paused(now: number): boolean {
    return now < this.until;
  }

  /** Counts an inline run that took `ms`, ending at `now`. */
  ran(ms: number, now: number): void {
    if (ms <= STALL_MS) {
      this.strikes = 0;
      if (this.pauses && ++this.cleanRuns >= CLEAN_RUNS) this.pauses = 0;
      return;
    }
    this.cleanRuns = 0;
    if (++this.strikes < STRIKES) return;
    this.strikes = 0;
    this.until = now + Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** this.pauses);
    this.pauses++;
  }
}
