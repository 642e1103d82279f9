import type { ServiceInstance } from '../discovery/service-instance.js';
import { functionOption, optionsObject } from '../util/validate.js';
import type { CallInfo, Selector } from './selector.js';
import { stableStringify } from './stable-stringify.js';

/**
 * Options of {@link consistentHash}.
 *
 * @group Governance
 */
export interface ConsistentHashOptions {
  /**
   * The hash key of a call: calls with the same key go to the same instance.
   * Default: {@link defaultHashKey}, `${service}.${method}:${stableStringify(args)}`.
   */
  readonly keyOf?: (call: CallInfo) => string;
}

/**
 * The default hash key of a call: `${service}.${method}:${stableStringify(args)}`, so equal
 * arguments give the same key whatever the order of their object keys.
 *
 * It throws only what the arguments themselves throw (a getter, a `toJSON`).
 *
 * @example
 * ```ts
 * defaultHashKey({ service: 'Arith', method: 'Mul', args: { B: 2, A: 1 } }); // 'Arith.Mul:{"A":1,"B":2}'
 * ```
 * @group Governance
 */
export function defaultHashKey(call: CallInfo): string {
  return `${call.service}.${call.method}:${stableStringify(call.args)}`;
}

/**
 * Creates a selector that sends calls with the same hash key to the same instance, by
 * rendezvous (highest random weight) hashing (Go Phobos's `ConsistentHash`, with another
 * algorithm).
 *
 * Each instance scores a 53-bit hash of the call's key and the instance's key (64-bit FNV-1a
 * over UTF-8, finished with murmur3's mixer); the highest score wins, a tie goes to the smaller
 * key. So the choice does not depend on the order of the list, and when one of N instances
 * joins or leaves only the keys that map to it move (about 1/N of them). Stateless.
 *
 * `select` returns `undefined` only for an empty list; it throws what `keyOf` throws.
 *
 * @throws RangeError naming `keyOf` when it is not a function; TypeError when the options are
 *   not an object.
 * @example
 * ```ts
 * const selector = consistentHash({ keyOf: (call) => call.metadata?.userId ?? '' });
 * selector.select(instances, { service: 'Cart', method: 'Get', args: {}, metadata: { userId: '42' } });
 * ```
 * @group Governance
 */
export function consistentHash(options?: ConsistentHashOptions): Selector {
  const resolved = optionsObject('consistentHash options', options);
  const keyOf = functionOption('keyOf', resolved.keyOf) ?? defaultHashKey;
  return {
    select(instances, call) {
      if (instances.length === 0) return undefined;
      const seeded = seed(keyOf(call));
      let best: ServiceInstance | undefined;
      let bestScore = -1;
      for (const instance of instances) {
        const hash = fnv1a64(instance.key, seeded.hi, seeded.lo);
        const score = finish(hash.hi, hash.lo);
        if (score > bestScore || (score === bestScore && best !== undefined && instance.key < best.key)) {
          best = instance;
          bestScore = score;
        }
      }
      return best;
    },
  };
}

/**
 * The rendezvous score of an instance key for a hash key: what {@link consistentHash}
 * maximizes. An integer in [0, 2^53).
 *
 * @example
 * ```ts
 * rendezvousScore('Arith.Mul:{"A":1}', 'tcp@10.0.0.1:8972'); // a number in [0, 2 ** 53)
 * ```
 * @group Governance
 */
export function rendezvousScore(hashKey: string, instanceKey: string): number {
  const seeded = seed(hashKey);
  const hash = fnv1a64(instanceKey, seeded.hi, seeded.lo);
  return finish(hash.hi, hash.lo);
}

/** A 64-bit hash as two unsigned 32-bit halves. @internal */
export interface Hash64 {
  readonly hi: number;
  readonly lo: number;
}

const FNV_OFFSET_HI = 0xcbf29ce4;
const FNV_OFFSET_LO = 0x84222325;

// The hash state after the hash key and a 0xff byte, which never occurs in UTF-8, so that the
// hash key and the instance key cannot run together.
function seed(hashKey: string): Hash64 {
  const { hi, lo } = fnv1a64(hashKey);
  // One FNV-1a step of 64 bits in two unsigned 32-bit halves: the prime is 2^40 + 0x1b3.
  const xored = (lo ^ 0xff) >>> 0;
  const low = xored * 0x1b3;
  const high = hi * 0x1b3 + (xored & 0xffffff) * 0x100 + Math.floor(low / 0x1_0000_0000);
  return { hi: high >>> 0, lo: low >>> 0 };
}

/** 64-bit FNV-1a of the UTF-8 bytes of `text`, continuing from the given state. @internal */
export function fnv1a64(text: string, seedHi = FNV_OFFSET_HI, seedLo = FNV_OFFSET_LO): Hash64 {
  let hi = seedHi;
  let lo = seedLo;
  const feed = (byte: number): void => {
    const xored = (lo ^ byte) >>> 0;
    const low = xored * 0x1b3;
    hi = (hi * 0x1b3 + (xored & 0xffffff) * 0x100 + Math.floor(low / 0x1_0000_0000)) >>> 0;
    lo = low >>> 0;
  };
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) {
      feed(unit);
    } else if (unit < 0x800) {
      feed(0xc0 | (unit >> 6));
      feed(0x80 | (unit & 0x3f));
    } else {
      const next = text.charCodeAt(index + 1);
      if (unit >= 0xd800 && unit < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
        const point = 0x10000 + ((unit - 0xd800) << 10) + (next - 0xdc00);
        index++;
        feed(0xf0 | (point >> 18));
        feed(0x80 | ((point >> 12) & 0x3f));
        feed(0x80 | ((point >> 6) & 0x3f));
        feed(0x80 | (point & 0x3f));
      } else {
        // A lone surrogate is written as its three bytes (as WTF-8 does), keeping keys distinct.
        feed(0xe0 | (unit >> 12));
        feed(0x80 | ((unit >> 6) & 0x3f));
        feed(0x80 | (unit & 0x3f));
      }
    }
  }
  return { hi, lo };
}

function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// FNV-1a's last bytes barely reach the high bits; the mixer spreads them over the whole score.
function finish(hi: number, lo: number): number {
  const low = fmix32((lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0);
  const high = fmix32((hi ^ low) >>> 0);
  return high * 0x20_0000 + (low >>> 11);
}
