/**
 * The part of ZIP that PyTorch's checkpoints use: the central directory (with ZIP64 for files over 4 GiB) and
 * STORED entries, located by their local headers.
 *
 * Why not a zip library: torch.save writes every record uncompressed (STORED) and 64-byte aligned so that storages
 * can be mapped in place. That makes a storage's bytes a plain range of the file, which lets a reader fetch one
 * tensor with one positioned read, count exactly what it reads, and never stream or inflate anything. A general
 * reader (yauzl) would add stream plumbing for no gain here; a compressed entry is refused with a message instead.
 */
import { readAt, type ByteSource } from './byte-source.ts';
import { CheckpointError } from './types.ts';

/** One member of the archive. */
export interface ZipEntry {
  /** Its path inside the archive (`archive/data/0`). */
  name: string;
  /** Bytes of its data (stored: compressed = uncompressed). */
  size: number;
  /** 0 = STORED; anything else is refused when the entry is read. */
  method: number;
  /** Offset of its local file header. */
  headerOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** The end record is 22 bytes plus a comment of up to 65535. */
const EOCD_SEARCH = 22 + 0xffff;

/** An archive's directory, read from its end; entries' data are located on demand. */
export class ZipDirectory {
  private readonly dataOffsets = new Map<string, number>();

  private constructor(
    private readonly source: ByteSource,
    /** Every entry by name. */
    readonly entries: ReadonlyMap<string, ZipEntry>,
  ) {}

  /** Reads the end-of-central-directory record and the central directory (only those bytes). */
  static async read(source: ByteSource): Promise<ZipDirectory> {
    const bad = (what: string): CheckpointError =>
      new CheckpointError('corrupt', `'${source.path}' is not a readable PyTorch zip checkpoint: ${what}. Download or copy the file again.`);
    const tailLength = Math.min(source.size, EOCD_SEARCH);
    const tailStart = source.size - tailLength;
    const tail = await readAt(source, tailStart, tailLength);
    const view = new DataView(tail.buffer);
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (view.getUint32(i, true) === EOCD_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw bad('no end-of-central-directory record (the file is truncated, or not a zip archive)');
    let count = view.getUint16(eocd + 10, true);
    let dirSize = view.getUint32(eocd + 12, true);
    let dirOffset = view.getUint32(eocd + 16, true);

    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || view.getUint32(loc, true) !== ZIP64_LOCATOR_SIG) throw bad('a ZIP64 archive without its ZIP64 locator');
      const recordOffset = safe(view.getBigUint64(loc + 8, true), 'the ZIP64 record offset', bad);
      const record = await readAt(source, recordOffset, 56).catch(() => {
        throw bad('the ZIP64 end record lies beyond the end of the file');
      });
      const rv = new DataView(record.buffer);
      if (rv.getUint32(0, true) !== ZIP64_EOCD_SIG) throw bad('the ZIP64 end record is missing');
      count = safe(rv.getBigUint64(32, true), 'the entry count', bad);
      dirSize = safe(rv.getBigUint64(40, true), 'the directory size', bad);
      dirOffset = safe(rv.getBigUint64(48, true), 'the directory offset', bad);
    }
    if (dirOffset + dirSize > source.size) throw bad(`the central directory (bytes ${dirOffset}–${dirOffset + dirSize}) lies beyond the end of the file (${source.size} bytes): it is truncated`);

    const dir = await readAt(source, dirOffset, dirSize);
    const dv = new DataView(dir.buffer);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    for (let i = 0; i < count; i++) {
      if (p + 46 > dirSize || dv.getUint32(p, true) !== CENTRAL_SIG) throw bad(`central directory entry ${i} of ${count} is damaged`);
      const method = dv.getUint16(p + 10, true);
      let compressed = dv.getUint32(p + 20, true);
      let uncompressed = dv.getUint32(p + 24, true);
      const nameLength = dv.getUint16(p + 28, true);
      const extraLength = dv.getUint16(p + 30, true);
      const commentLength = dv.getUint16(p + 32, true);
      let headerOffset = dv.getUint32(p + 42, true);
      if (p + 46 + nameLength + extraLength + commentLength > dirSize) throw bad(`central directory entry ${i} runs past the directory`);
      let name: string;
      try {
        name = utf8.decode(dir.subarray(p + 46, p + 46 + nameLength));
      } catch {
        throw bad(`central directory entry ${i} has a name that is not UTF-8`);
      }
      // ZIP64 extra field: the 64-bit values appear only for the fields saturated at 0xffffffff, in this order.
      let e = p + 46 + nameLength;
      const extraEnd = e + extraLength;
      while (e + 4 <= extraEnd) {
        const id = dv.getUint16(e, true);
        const len = dv.getUint16(e + 2, true);
        if (id === 0x0001) {
          let q = e + 4;
          const next = (what: string): number => {
            if (q + 8 > e + 4 + len) throw bad(`entry '${name}' has a short ZIP64 field (no ${what})`);
            const v = safe(dv.getBigUint64(q, true), what, bad);
            q += 8;
            return v;
          };
          if (uncompressed === 0xffffffff) uncompressed = next('size');
          if (compressed === 0xffffffff) compressed = next('compressed size');
          if (headerOffset === 0xffffffff) headerOffset = next('header offset');
        }
        e += 4 + len;
      }
      if (method === 0 && compressed !== uncompressed) throw bad(`stored entry '${name}' has compressed size ${compressed} ≠ size ${uncompressed}`);
      entries.set(name, { name, size: uncompressed, method, headerOffset });
      p = extraEnd + commentLength;
    }
    return new ZipDirectory(source, entries);
  }

  /** Absolute offset of `entry`'s data, from its local header (read once, 30 bytes + name + extra). */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const known = this.dataOffsets.get(entry.name);
    if (known !== undefined) return known;
    const path = this.source.path;
    if (entry.method !== 0) {
      throw new CheckpointError(
        'model-error',
        `'${path}' stores '${entry.name}' compressed (zip method ${entry.method}); PyTorch checkpoints store records uncompressed. Re-save it with torch.save, or convert it to safetensors.`,
      );
    }
    if (entry.headerOffset + 30 > this.source.size) {
      throw new CheckpointError('corrupt', `'${path}': the local header of '${entry.name}' lies beyond the end of the file (truncated). Download or copy the file again.`);
    }
    const header = await readAt(this.source, entry.headerOffset, 30);
    const hv = new DataView(header.buffer);
    if (hv.getUint32(0, true) !== LOCAL_SIG) {
      throw new CheckpointError('corrupt', `'${path}': no local file header for '${entry.name}' at byte ${entry.headerOffset}. Download or copy the file again.`);
    }
    const offset = entry.headerOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
    if (offset + entry.size > this.source.size) {
      throw new CheckpointError(
        'corrupt',
        `'${path}': '${entry.name}' needs bytes ${offset}–${offset + entry.size}, but the file has ${this.source.size}: it is truncated. Download or copy the file again.`,
      );
    }
    this.dataOffsets.set(entry.name, offset);
    return offset;
  }

  /** The whole of a (small) entry, e.g. `data.pkl` or `byteorder`. */
  async readEntry(entry: ZipEntry): Promise<Uint8Array> {
    return readAt(this.source, await this.dataOffset(entry), entry.size);
  }
}

function safe(v: bigint, what: string, bad: (what: string) => CheckpointError): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${what} (${v}) is out of range`);
  return Number(v);
}
