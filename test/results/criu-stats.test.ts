// CRIU's own timings (frozen time, restore time) come from its binary stats images
// (images/stats.proto). The fixtures are fixed images, so their values are asserted exactly.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeFields, parseDumpStats, parseRestoreStats, readDumpStats, readRestoreStats } from '../../src/criu/stats.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/criu/${name}`, import.meta.url));

describe('CRIU stats images', () => {
  it('reads stats-dump', async () => {
    const stats = await readDumpStats(fixture('stats-dump'));
    expect(stats).toEqual({ freezingUs: 101625, frozenUs: 93156, memdumpUs: 3442, memwriteUs: 1771, pagesScanned: 783, pagesWritten: 673 });
    // Plausible, not just decodable: the memory phases happen while frozen, and CRIU cannot write more pages than it scanned.
    expect(stats.memdumpUs! + stats.memwriteUs!).toBeLessThan(stats.frozenUs!);
    expect(stats.pagesWritten!).toBeLessThanOrEqual(stats.pagesScanned!);
  });

  it('reads stats-restore', async () => {
    expect(await readRestoreStats(fixture('stats-restore'))).toEqual({ forkingUs: 3, restoreUs: 100136 });
  });

  it('gives no figures when the image holds the other kind of entry', () => {
    expect(parseRestoreStats(readFileSync(fixture('stats-dump')))).toEqual({ forkingUs: undefined, restoreUs: undefined });
    expect(parseDumpStats(readFileSync(fixture('stats-restore'))).frozenUs).toBeUndefined();
  });

  it('rejects a file that is not a CRIU stats image', () => {
    expect(() => parseDumpStats(new Uint8Array(20))).toThrow('not a CRIU stats image');
    expect(() => parseDumpStats(new Uint8Array(4))).toThrow('not a CRIU stats image');
    // Right service magic, wrong image magic (an inventory image, say).
    const wrong = Uint8Array.from(readFileSync(fixture('stats-dump')));
    wrong[4] = 0;
    expect(() => parseDumpStats(wrong)).toThrow('not a CRIU stats image');
  });

  it('reads an image that sits inside a larger buffer (Buffer pooling gives non-zero offsets)', () => {
    const image = readFileSync(fixture('stats-restore'));
    const padded = new Uint8Array(image.length + 7);
    padded.set(image, 7);
    expect(parseRestoreStats(padded.subarray(7))).toEqual({ forkingUs: 3, restoreUs: 100136 });
  });
});

describe('decodeFields', () => {
  it('decodes varints (also past 32 bits) and length-delimited fields', () => {
    // field 1 varint 300, field 2 bytes [0x08 0x05], field 7 varint 2^40
    const buf = Uint8Array.from([0x08, 0xac, 0x02, 0x12, 0x02, 0x08, 0x05, 0x38, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    const fields = decodeFields(buf);
    expect(fields.get(1)).toBe(300);
    expect(fields.get(7)).toBe(2 ** 40);
    const inner = fields.get(2);
    expect(inner).toBeInstanceOf(Uint8Array);
    expect(decodeFields(inner as Uint8Array).get(1)).toBe(5);
  });

  it('rejects a truncated varint and wire types stats images never use', () => {
    expect(() => decodeFields(Uint8Array.from([0x08, 0xff]))).toThrow('truncated varint');
    expect(() => decodeFields(Uint8Array.from([0x09, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/wire type 1/);
  });
});
