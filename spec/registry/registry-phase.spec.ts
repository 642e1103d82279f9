import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IDLE_PHASE, nextPhase, type RegistryEvent } from '../../lib/registry/registry-phase.js';

const error = new Error('etcd is down');
const event: fc.Arbitrary<RegistryEvent> = fc.constantFrom<RegistryEvent>(
  { type: 'written' },
  { type: 'failed', error },
  { type: 'answered' },
  { type: 'unanswered', error },
  { type: 'lost', error },
  { type: 'repaired', restored: true },
  { type: 'repaired', restored: false },
  { type: 'released' },
  { type: 'closed' },
);

function run(events: readonly RegistryEvent[]) {
  return events.reduce(nextPhase, IDLE_PHASE);
}

describe('registry phase', () => {
  it('nextPhase - a failure makes the registry unreachable and repairing; only the end of the repair makes it registered again', () => {
    const failed = run([{ type: 'written' }, { type: 'failed', error }]);
    expect(failed).toEqual({ state: 'unreachable', repairing: true, error });
    expect(nextPhase(failed, { type: 'written' })).toBe(failed);
    expect(nextPhase(failed, { type: 'answered' })).toBe(failed);
    expect(nextPhase(failed, { type: 'repaired', restored: true })).toEqual({
      state: 'registered',
      repairing: false,
    });
  });

  it('nextPhase - an unanswered keepalive makes the registry unreachable without a repair; an answer makes it registered again', () => {
    const unanswered = run([{ type: 'written' }, { type: 'unanswered', error }]);
    expect(unanswered).toEqual({ state: 'unreachable', repairing: false, error });
    expect(nextPhase(unanswered, { type: 'answered' })).toEqual({ state: 'registered', repairing: false });
    // An answer alone never makes an idle registry registered.
    expect(nextPhase(IDLE_PHASE, { type: 'answered' })).toBe(IDLE_PHASE);
  });

  it('nextPhase - closed is final; a repair runs from a failure or a loss until repaired, released or closed', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        let phase = IDLE_PHASE;
        let repairing = false;
        let closed = false;
        for (const next of events) {
          phase = nextPhase(phase, next);
          if (closed) continue;
          if (next.type === 'closed') closed = true;
          if (next.type === 'failed' || next.type === 'lost') repairing = true;
          if (next.type === 'repaired' || next.type === 'released' || next.type === 'closed')
            repairing = false;
          expect(phase.repairing).toBe(repairing);
          if (phase.repairing) expect(phase.state).toBe('unreachable');
        }
        expect(phase.state === 'closed').toBe(closed);
      }),
    );
  });
});
