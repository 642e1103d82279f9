import type { Type } from 'protobufjs';
import { UsageError } from './usage-error.js';

/**
 * The Protobuf message types of one call, loaded from a `.proto` file.
 *
 * @example
 * ```ts
 * const { requestType, replyType }: ProtoTypes = await loadProtoTypes('arith.proto', 'arith.Args', 'arith.Reply');
 * ```
 */
export interface ProtoTypes {
  /** The type ARGS are encoded as (`--type`). */
  readonly requestType: Type;
  /** The type the reply is decoded as (`--reply-type`); without it the reply's bytes are printed. */
  readonly replyType: Type | undefined;
}

/**
 * Loads a `.proto` file (and the files it imports, relative to it) and looks up the request
 * type and, if named, the reply type. Names are fully qualified (`pkg.Args`); a leading dot is
 * accepted. Field names follow protobufjs's default: `snake_case` fields become `camelCase`.
 *
 * @throws UsageError when the file cannot be read or parsed, or a name is not a message type
 *   of it (the message lists the types it has).
 * @example
 * ```ts
 * const { requestType, replyType } = await loadProtoTypes('arith.proto', 'arith.Args', 'arith.Reply');
 * ```
 */
export async function loadProtoTypes(
  file: string,
  typeName: string,
  replyTypeName: string | undefined,
): Promise<ProtoTypes> {
  const protobuf = (await import('protobufjs')).default;
  let root: InstanceType<typeof protobuf.Root>;
  try {
    root = new protobuf.Root().loadSync(file);
    root.resolveAll();
  } catch (error) {
    throw new UsageError(`cannot load --proto ${file}: ${(error as Error).message}`, { cause: error });
  }
  const lookup = (flag: string, name: string): Type => {
    try {
      return root.lookupType(name.replace(/^\./, ''));
    } catch {
      const known = messageNames(root, protobuf.Type).join(', ') || 'none';
      throw new UsageError(`${flag} ${name} is not a message type of ${file}; it has: ${known}`);
    }
  };
  return {
    requestType: lookup('--type', typeName),
    replyType: replyTypeName === undefined ? undefined : lookup('--reply-type', replyTypeName),
  };
}

/** The full names of every message type under `root`. */
function messageNames(
  root: { nestedArray: readonly unknown[] },
  TypeClass: abstract new (...args: never[]) => Type,
): string[] {
  const names: string[] = [];
  const visit = (node: unknown): void => {
    if (node instanceof TypeClass) names.push(node.fullName.replace(/^\./, ''));
    const nested = (node as { nestedArray?: readonly unknown[] }).nestedArray;
    if (nested) for (const child of nested) visit(child);
  };
  for (const child of root.nestedArray) visit(child);
  return names;
}
