/** Bytes of a frame's length prefix (uint32, big-endian). */
export const LENGTH_BYTES = 4;

/**
 * Splits a stream of length-prefixed frames: `push` a chunk, get back how many whole frames it
 * completed and the bytes they span (prefixes included). Chunks of an incomplete frame are held
 * and joined once, when the frame is whole, and frames are not copied out one by one: the point
 * is to do no more work than framing needs.
 *
 * @example
 * ```ts
 * const { frames, bytes } = splitter.push(chunk);
 * if (frames > 0) socket.write(bytes);
 * ```
 */
export class FrameSplitter {
  private chunks: Buffer[] = [];
  private held = 0;
  /** Bytes needed (from the first held byte) to complete the next frame, once its prefix is in. */
  private needed = LENGTH_BYTES;

  /** Adds a chunk; returns the whole frames now available, as one buffer, and their count. */
  push(chunk: Buffer): { frames: number; bytes: Buffer } {
    this.chunks.push(chunk);
    this.held += chunk.length;
    if (this.held < this.needed) return { frames: 0, bytes: EMPTY };
    const data = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.held);
    let offset = 0;
    let frames = 0;
    this.needed = LENGTH_BYTES;
    while (data.length - offset >= LENGTH_BYTES) {
      const end = offset + LENGTH_BYTES + data.readUInt32BE(offset);
      if (end > data.length) {
        this.needed = end - offset;
        break;
      }
      offset = end;
      frames++;
    }
    const rest = data.subarray(offset);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.held = rest.length;
    return { frames, bytes: data.subarray(0, offset) };
  }
}

const EMPTY = Buffer.alloc(0);
