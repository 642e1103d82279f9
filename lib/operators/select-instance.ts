import { map, type OperatorFunction } from 'rxjs';
import type { ServiceInstance } from '../discovery/service-instance.js';
import { CircuitOpenError, NoInstanceError } from '../errors/errors.js';
import type { CallInfo, Selector } from '../selector/selector.js';
import { describeValue, functionOption, hasMethods, optionsObject } from '../util/validate.js';

/**
 * Options of {@link selectInstance}. Every option is optional.
 *
 * @group Governance
 */
export interface SelectInstanceOptions {
  /**
   * Whether an instance may be picked now, typically "its circuit breaker is not open".
   * Default: every instance is.
   */
  readonly isAvailable?: (instance: ServiceInstance) => boolean;
}

/**
 * Picks a server from each list of instances discovery reports: emits the selector's pick
 * among the instances that pass `isAvailable`.
 *
 * Failure cases: an empty list errors with a {@link NoInstanceError} (`details.service`); a
 * list whose instances are all unavailable errors with a {@link CircuitOpenError}
 * (`details.service`, `details.instances`: how many were unavailable). A selector that returns
 * nothing for a non-empty list, breaking its contract, errors with a `NoInstanceError` too. An
 * error thrown by the selector or by `isAvailable` passes as the result's error.
 *
 * @throws TypeError when `options` is not an object; RangeError when `selector` has no
 *   `select` method or `isAvailable` is not a function.
 * @example
 * ```ts
 * const attempt$ = discovery.instances$.pipe(
 *   take(1),
 *   selectInstance(selector, { service: 'Arith', method: 'Mul', args }, {
 *     isAvailable: (instance) => breakers.get(instance.key).state.state !== 'open',
 *   }),
 *   switchMap((instance) => callOn(instance)),
 * );
 * ```
 * @group Governance
 */
export function selectInstance(
  selector: Selector,
  call: CallInfo,
  options?: SelectInstanceOptions,
): OperatorFunction<readonly ServiceInstance[], ServiceInstance> {
  if (!hasMethods(selector, ['select'])) {
    throw new RangeError(`selector must have a select method, got ${describeValue(selector)}`);
  }
  const o = optionsObject('selectInstance options', options);
  const isAvailable = functionOption('isAvailable', o.isAvailable);
  const service = call.service;

  return map((instances) => {
    if (instances.length === 0) {
      throw new NoInstanceError(
        `no server of service "${service}" is known; start one, or check the registry and the group`,
        { details: { service } },
      );
    }
    const available = isAvailable === undefined ? instances : instances.filter(isAvailable);
    if (available.length === 0) {
      throw new CircuitOpenError(
        `every server of service "${service}" is unavailable (circuit open); wait, or start another`,
        { details: { service, instances: instances.length } },
      );
    }
    const picked = selector.select(available, call);
    if (picked === undefined) {
      throw new NoInstanceError(
        `the selector picked no server of service "${service}" from a non-empty list`,
        {
          details: { service },
        },
      );
    }
    return picked;
  });
}
