/**
 * The longest delay a timer can wait: Node's timers (and RxJS's, which use them) fire at once for
 * anything longer than 2^31 - 1 ms (about 24.8 days). A module of its own, with no imports, so
 * that the command line's flag parsing can use it without loading RxJS.
 *
 * @internal
 */
export const MAX_TIMER_MS = 2_147_483_647;
