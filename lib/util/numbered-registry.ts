/** What a {@link NumberedRegistry} holds items of: how they are numbered and checked. @internal */
export interface NumberedKind<T> {
  /** What an item is called in messages: `codec`, `compressor`. */
  readonly noun: string;
  /** The item's property that holds its number. */
  readonly numberKey: keyof T & string;
  /** Width of the header field the number travels in. */
  readonly bits: number;
  /** The item's methods that must be functions. */
  readonly methods: readonly (keyof T & string)[];
  /** The error for a number nothing is registered for; `registered` lists what is. */
  unknown(number: number, registered: string): Error;
}

/**
 * Items by a small number carried in a header field (serialize type, compress type).
 * Registering an item under a number that has one replaces it.
 *
 * @internal
 */
export class NumberedRegistry<T extends { readonly name: string }> {
  readonly #items = new Map<number, T>();
  readonly #kind: NumberedKind<T>;

  constructor(kind: NumberedKind<T>) {
    this.#kind = kind;
  }

  /**
   * Adds `item` under its number, replacing any item registered there; returns the registry.
   *
   * @throws RangeError when the number does not fit its header field, the name is empty, or a
   *   required method is missing.
   */
  register(item: T): this {
    const { noun, numberKey, bits, methods } = this.#kind;
    const max = 2 ** bits - 1;
    if (typeof item !== 'object' || item === null) {
      throw new RangeError(
        `${noun} must be an object with ${numberKey}, name, ${methods.join(' and ')}, got ${String(item)}`,
      );
    }
    const number = item[numberKey] as unknown;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > max) {
      throw new RangeError(
        `${noun}.${numberKey} must be an integer from 0 to ${max} (a ${bits}-bit header field), got ${String(number)}`,
      );
    }
    if (typeof item.name !== 'string' || item.name === '') {
      throw new RangeError(`${noun}.name must be a non-empty string, got ${String(item.name)}`);
    }
    if (methods.some((method) => typeof item[method] !== 'function')) {
      throw new RangeError(`${noun} '${item.name}' must have ${methods.join(' and ')} functions`);
    }
    this.#items.set(number, item);
    return this;
  }

  /**
   * The item registered under `number`.
   *
   * @throws the kind's error naming the number and listing the registered ones, when there is none.
   */
  get(number: number): T {
    const item = this.#items.get(number);
    if (item !== undefined) return item;
    const registered = [...this.#items]
      .sort(([a], [b]) => a - b)
      .map(([known, { name }]) => `${known} (${name})`)
      .join(', ');
    throw this.#kind.unknown(number, registered === '' ? 'none' : registered);
  }

  /** Whether an item is registered under `number`. Never throws. */
  has(number: number): boolean {
    return this.#items.has(number);
  }
}
