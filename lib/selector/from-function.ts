import type { ServiceInstance } from '../discovery/service-instance.js';
import { describeValue } from '../util/validate.js';
import type { CallInfo, Selector } from './selector.js';

/**
 * A selection function: picks one of the instances for a call.
 *
 * @group Governance
 */
export type SelectFunction = (
  instances: readonly ServiceInstance[],
  call: CallInfo,
) => ServiceInstance | undefined;

/**
 * Wraps a user's selection function as a {@link Selector}.
 *
 * The function is called with the (non-empty) list and the call, and its answer is passed
 * through as is; for an empty list `select` returns `undefined` without calling it. What the
 * function throws propagates. An answer that is not a member of the list is not checked here:
 * the XClient treats it as "no instance" (`NoInstanceError`).
 *
 * @throws RangeError naming `select` when it is not a function.
 * @example
 * ```ts
 * const first = fromFunction((instances) => instances.find((i) => i.metadata.zone === 'eu') ?? instances[0]);
 * ```
 * @group Governance
 */
export function fromFunction(select: SelectFunction): Selector {
  if (typeof select !== 'function') {
    throw new RangeError(`select must be a function, got ${describeValue(select)}`);
  }
  return {
    select(instances, call) {
      return instances.length === 0 ? undefined : select(instances, call);
    },
  };
}
