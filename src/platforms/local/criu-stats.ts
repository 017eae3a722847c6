// Reads CRIU's own statistics images (stats-dump, stats-restore), written to the work directory.
// Layout (CRIU images/stats.proto, criu/include/magic.h): u32 IMG_SERVICE_MAGIC, u32 STATS_MAGIC,
// u32 little-endian payload length, then one protobuf `stats_entry { dump = 1; restore = 2 }`.
// Every field we read is a varint, so a minimal protobuf reader is enough and has no dependency.
import { readFile } from 'node:fs/promises';
import type { CriuStats } from '../../model/criu-stats.ts';

const IMG_SERVICE_MAGIC = 0x55105940;
const STATS_MAGIC = 0x57093306;

type Fields = Map<number, number | Uint8Array>;

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < buf.length; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return [value, i + 1];
  }
  throw new Error('truncated varint');
}

/** Decodes one protobuf message's top-level fields (varint and length-delimited only). */
export function decodeFields(buf: Uint8Array): Fields {
  const fields: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType === 0) {
      const [value, next] = readVarint(buf, afterKey);
      fields.set(field, value);
      pos = next;
    } else if (wireType === 2) {
      const [length, start] = readVarint(buf, afterKey);
      fields.set(field, buf.subarray(start, start + length));
      pos = start + length;
    } else {
      throw new Error(`unexpected protobuf wire type ${wireType} for field ${field}`);
    }
  }
  return fields;
}

function statsEntry(image: Uint8Array, which: 1 | 2): Fields | undefined {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.byteLength < 12 || view.getUint32(0, true) !== IMG_SERVICE_MAGIC || view.getUint32(4, true) !== STATS_MAGIC) {
    throw new Error('not a CRIU stats image');
  }
  const length = view.getUint32(8, true);
  const entry = decodeFields(image.subarray(12, 12 + length));
  const inner = entry.get(which);
  return inner instanceof Uint8Array ? decodeFields(inner) : undefined;
}

const num = (f: Fields | undefined, n: number): number | undefined => {
  const v = f?.get(n);
  return typeof v === 'number' ? v : undefined;
};

export function parseDumpStats(image: Uint8Array): CriuStats {
  const d = statsEntry(image, 1);
  return {
    freezingUs: num(d, 1),
    frozenUs: num(d, 2),
    memdumpUs: num(d, 3),
    memwriteUs: num(d, 4),
    pagesScanned: num(d, 5),
    pagesWritten: num(d, 7),
  };
}

export function parseRestoreStats(image: Uint8Array): CriuStats {
  const r = statsEntry(image, 2);
  return { forkingUs: num(r, 3), restoreUs: num(r, 4) };
}

export async function readDumpStats(file: string): Promise<CriuStats> {
  return parseDumpStats(await readFile(file));
}

export async function readRestoreStats(file: string): Promise<CriuStats> {
  return parseRestoreStats(await readFile(file));
}
