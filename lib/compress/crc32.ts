let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  const result = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    result[n] = c;
  }
  return result;
}

/**
 * The CRC-32 (IEEE, as in a gzip trailer) of `data`, continuing from `previous` (the CRC of what
 * came before; 0 to start). Internal to the gzip compressor: fflate does not check trailers.
 *
 * Never throws.
 *
 * @example
 * ```ts
 * crc32(new TextEncoder().encode('123456789')).toString(16); // 'cbf43926'
 * crc32(second, crc32(first)) === crc32(both);
 * ```
 */
export function crc32(data: Uint8Array, previous = 0): number {
  table ??= crcTable();
  let crc = ~previous;
  for (let index = 0; index < data.length; index++) {
    crc = (table[(crc ^ (data[index] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  return ~crc >>> 0;
}
