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
 * (`details.service`, `details.instances`: the keys of the unavailable servers). A selector that
 * returns nothing, or an instance it was not given, breaking its contract, errors with a
 * `NoInstanceError` too. An error thrown by the selector or by `isAvailable` passes as the
 * result's error.
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
  return map((instances) => pickInstance(selector, instances, call, isAvailable, NO_PREFERENCES));
}

const NO_PREFERENCES: readonly ((instance: ServiceInstance) => boolean)[] = [];

/**
 * The pick of {@link selectInstance} from one list, with preferences: among the available
 * instances, each preference in turn narrows the candidates to those that pass it, unless none
 * does (an XClient prefers servers whose connection is up, then servers this call has not tried).
 * Nothing is copied while every instance passes.
 *
 * @throws NoInstanceError for an empty list, or when the selector picks none of the candidates;
 *   CircuitOpenError (`details.instances`: the keys of the servers) when none is available.
 * @internal
 */
export function pickInstance(
  selector: Selector,
  instances: readonly ServiceInstance[],
  call: CallInfo,
  isAvailable: ((instance: ServiceInstance) => boolean) | undefined,
  preferences: readonly ((instance: ServiceInstance) => boolean)[],
): ServiceInstance {
  const service = call.service;
  if (instances.length === 0) {
    throw new NoInstanceError(
      `no server of service "${service}" is known; start one, or check the registry and the group`,
      { details: { service } },
    );
  }
  const available = isAvailable === undefined ? instances : narrowed(instances, isAvailable);
  if (available.length === 0) {
    throw new CircuitOpenError(
      `every server of service "${service}" is unavailable (circuit open); wait, or start another`,
      { details: { service, instances: instances.map((instance) => instance.key) } },
    );
  }
  let candidates = available;
  for (const prefer of preferences) {
    const preferred = narrowed(candidates, prefer);
    if (preferred.length > 0) candidates = preferred;
  }
  const picked = selector.select(candidates, call);
  if (picked === undefined || !candidates.includes(picked)) {
    throw new NoInstanceError(
      `the selector of service "${service}" picked no server among the ${candidates.length} it was given`,
      { details: { service } },
    );
  }
  return picked;
}

/** The instances that pass `keep`: `instances` itself when all do. */
function narrowed(
  instances: readonly ServiceInstance[],
  keep: (instance: ServiceInstance) => boolean,
): readonly ServiceInstance[] {
  return instances.every(keep) ? instances : instances.filter(keep);
}
