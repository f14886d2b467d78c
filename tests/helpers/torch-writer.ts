/**
 * A minimal torch.save writer for tests: the protocol-2 pickle torch.save emits for a state dict (OrderedDict of
 * `_rebuild_tensor_v2` / `_rebuild_parameter` calls, storages by persistent id) and its zip layout (STORED records,
 * data 64-byte aligned through padding in the extra field, as PyTorch's writer does). It lets tests build .bin
 * checkpoints, good and malformed, without Python.
 */

/** Storage dtypes the writer knows, by the torch class that pickles them. */
export const STORAGE_CLASS = { F64: 'DoubleStorage', F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage', I64: 'LongStorage', I32: 'IntStorage', U8: 'ByteStorage', C64: 'ComplexFloatStorage' } as const;
/** A dtype the writer can store. */
export type WriterDtype = keyof typeof STORAGE_CLASS;
const ITEM: Record<WriterDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, C64: 8 };

/** One storage record: raw little-endian bytes of `dtype` elements. */
export interface StorageSpec {
  key: string;
  dtype: WriterDtype;
  bytes: Uint8Array;
  /** Overrides the element count written in the persistent id (for malformed files). */
  numel?: number;
}

/** One state-dict entry: a view of a storage. */
export interface TensorSpec {
  name: string;
  storage: string;
  shape: number[];
  /** Element offset into the storage (default 0). */
  offset?: number;
  /** Default row-major. */
  stride?: number[];
  /** Wrap in torch._utils._rebuild_parameter, as nn.Parameter entries are when a module (not a state dict) is saved. */
  parameter?: boolean;
}

/** Options for {@link torchSave}. */
export interface TorchSaveOptions {
  storages: StorageSpec[];
  tensors: TensorSpec[];
  /** The archive's folder name (torch uses the file's stem, or `archive`). */
  prefix?: string;
  /** `byteorder` record contents; null omits it (torch < 1.10). */
  byteorder?: string | null;
  /** Replaces the generated pickle (for forbidden-opcode tests). */
  pickle?: Uint8Array;
  /** Write ZIP64 records, as torch does for files over 4 GiB. */
  zip64?: boolean;
}

/** Float32 values as little-endian bytes. */
export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** Float64 values as little-endian bytes. */
export function f64Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float64Array.from(values).buffer);
}

/** Int64 values as little-endian bytes. */
export function i64Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
}

/** Values exactly representable in IEEE half precision, as little-endian bytes; throws for any other value. */
export function f16Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint16Array(values.length);
  values.forEach((v, i) => {
    const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
    const a = Math.abs(v);
    let bits: number;
    if (a === 0) bits = 0;
    else if (a < 2 ** -14) bits = a / 2 ** -24; // subnormal
    else {
      const exp = Math.floor(Math.log2(a));
      bits = ((exp + 15) << 10) | ((a / 2 ** exp - 1) * 1024);
    }
    if (!Number.isInteger(bits) || bits >= 0x7c00) throw new Error(`${v} is not exactly representable in float16`);
    out[i] = sign | bits;
  });
  return new Uint8Array(out.buffer);
}

/** Values exactly representable in bfloat16, as little-endian bytes; throws for any other value. */
export function bf16Bytes(values: readonly number[]): Uint8Array {
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  const out = new Uint16Array(values.length);
  bits.forEach((b, i) => {
    if ((b & 0xffff) !== 0) throw new Error(`${values[i]} is not exactly representable in bfloat16`);
    out[i] = b >>> 16;
  });
  return new Uint8Array(out.buffer);
}

/** Emits pickle opcodes (protocol 2, as torch.save uses), memoizing with BINPUT like CPython's pickler. */
export class PickleWriter {
  private readonly parts: number[] = [];
  private memo = 0;
  /** Raw bytes. */
  raw(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }
  /** PROTO 2. */
  proto(): this {
    return this.raw(0x80, 2);
  }
  /** GLOBAL 'module\nname\n' then BINPUT. */
  global(module: string, name: string): this {
    this.raw(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
    return this.put();
  }
  /** BINUNICODE then BINPUT. */
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.raw(0x58, ...u32(b.length), ...b);
    return this.put();
  }
  /** BININT1 / BININT2 / BININT / LONG1, the smallest that fits (as CPython chooses). */
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) return this.raw(0x4a, ...u32(n >>> 0));
    const bytes: number[] = [];
    let v = BigInt(n);
    while (v !== 0n && v !== -1n) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
    }
    if (n > 0 && (bytes[bytes.length - 1] & 0x80) !== 0) bytes.push(0);
    return this.raw(0x8a, bytes.length, ...bytes);
  }
  /** A tuple of ints: EMPTY_TUPLE, TUPLE1-3 or MARK … TUPLE, then BINPUT (CPython memoizes non-empty tuples). */
  intTuple(values: readonly number[]): this {
    if (values.length === 0) return this.raw(0x29);
    if (values.length > 3) this.raw(0x28);
    for (const v of values) this.int(v);
    this.raw(values.length > 3 ? 0x74 : 0x84 + values.length);
    return this.put();
  }
  /** BINPUT (LONG_BINPUT from slot 256, as CPython) of the next memo slot. */
  put(): this {
    const slot = this.memo++;
    return slot < 256 ? this.raw(0x71, slot) : this.raw(0x72, ...u32(slot));
  }
  /** BINGET (or LONG_BINGET) of a memo slot. */
  get(slot: number): this {
    return slot < 256 ? this.raw(0x68, slot) : this.raw(0x6a, ...u32(slot));
  }
  /** The next memo slot that {@link put} will use. */
  get memoSize(): number {
    return this.memo;
  }
  /** The bytes so far. */
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** The pickle torch.save writes for an OrderedDict state dict (with its `_metadata` attribute state, then BUILD). */
export function stateDictPickle(storages: readonly StorageSpec[], tensors: readonly TensorSpec[]): Uint8Array {
  const w = new PickleWriter().proto();
  w.global('collections', 'OrderedDict');
  const orderedDictMemo = 0;
  w.raw(0x29, 0x52).put(); // (), REDUCE → the state dict
  w.raw(0x28); // MARK for SETITEMS
  const storageClassMemo = new Map<string, number>();
  let rebuildTensorMemo: number | undefined;
  let rebuildParameterMemo: number | undefined;
  for (const t of tensors) {
    const storage = storages.find((s) => s.key === t.storage);
    if (!storage) throw new Error(`no storage ${t.storage}`);
    w.str(t.name);
    if (t.parameter) {
      if (rebuildParameterMemo === undefined) {
        rebuildParameterMemo = w.memoSize;
        w.global('torch._utils', '_rebuild_parameter');
      } else w.get(rebuildParameterMemo);
      w.raw(0x28); // MARK: (tensor, requires_grad, hooks) TUPLE
    }
    if (rebuildTensorMemo === undefined) {
      rebuildTensorMemo = w.memoSize;
      w.global('torch._utils', '_rebuild_tensor_v2');
    } else w.get(rebuildTensorMemo);
    w.raw(0x28); // MARK: args
    w.raw(0x28); // MARK: persistent id tuple
    w.str('storage');
    const cls = STORAGE_CLASS[storage.dtype];
    const known = storageClassMemo.get(cls);
    if (known === undefined) {
      storageClassMemo.set(cls, w.memoSize);
      w.global('torch', cls);
    } else w.get(known);
    w.str(storage.key).str('cpu').int(storage.numel ?? storage.bytes.length / ITEM[storage.dtype]);
    w.raw(0x74).put(); // TUPLE
    w.raw(0x51); // BINPERSID
    w.int(t.offset ?? 0);
    w.intTuple(t.shape);
    w.intTuple(t.stride ?? rowMajor(t.shape));
    w.raw(0x89); // requires_grad False
    w.get(orderedDictMemo).raw(0x29, 0x52).put(); // backward_hooks = OrderedDict()
    w.raw(0x74).put(); // TUPLE
    w.raw(0x52).put(); // REDUCE
    if (t.parameter) {
      w.raw(0x88); // requires_grad True
      w.get(orderedDictMemo).raw(0x29, 0x52).put();
      w.raw(0x74).put().raw(0x52).put();
    }
  }
  w.raw(0x75); // SETITEMS
  // state: {'_metadata': OrderedDict([('', {'version': 1})])}, then BUILD
  w.raw(0x7d).put().str('_metadata');
  w.get(orderedDictMemo).raw(0x29, 0x52).put();
  w.str('').raw(0x7d).put().str('version').int(1).raw(0x73).raw(0x73);
  w.raw(0x73); // SETITEM _metadata
  w.raw(0x62, 0x2e); // BUILD, STOP
  return w.bytes();
}

function rowMajor(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i];
  }
  return out;
}

/** A torch.save-style checkpoint's bytes. */
export function torchSave(options: TorchSaveOptions): Uint8Array {
  const prefix = options.prefix ?? 'archive';
  const records: { name: string; data: Uint8Array }[] = [{ name: `${prefix}/data.pkl`, data: options.pickle ?? stateDictPickle(options.storages, options.tensors) }];
  const byteorder = options.byteorder === undefined ? 'little' : options.byteorder;
  if (byteorder !== null) records.push({ name: `${prefix}/byteorder`, data: new TextEncoder().encode(byteorder) });
  for (const s of options.storages) records.push({ name: `${prefix}/data/${s.key}`, data: s.bytes });
  records.push({ name: `${prefix}/version`, data: new TextEncoder().encode('3\n') });
  return zipStored(records, { zip64: options.zip64 ?? false });
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip of STORED records, each record's data 64-byte aligned (padding in an extra field, id 'FB' like torch). */
export function zipStored(records: readonly { name: string; data: Uint8Array }[], options: { zip64?: boolean } = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const push = (b: Uint8Array): void => {
    chunks.push(b);
    offset += b.length;
  };
  for (const r of records) {
    const name = new TextEncoder().encode(r.name);
    const headerOffset = offset;
    const pad = (64 - ((offset + 30 + name.length + 4) % 64)) % 64;
    const extra = new Uint8Array(4 + pad);
    new DataView(extra.buffer).setUint16(0, 0x4246, true);
    new DataView(extra.buffer).setUint16(2, pad, true);
    const crc = crc32(r.data);
    const local = new Uint8Array(30);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, r.data.length, true);
    lv.setUint32(22, r.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extra.length, true);
    push(local);
    push(name);
    push(extra);
    push(r.data);

    const z64 = options.zip64 ?? false;
    const cextra = new Uint8Array(z64 ? 28 : 0);
    if (z64) {
      const xv = new DataView(cextra.buffer);
      xv.setUint16(0, 0x0001, true);
      xv.setUint16(2, 24, true);
      xv.setBigUint64(4, BigInt(r.data.length), true);
      xv.setBigUint64(12, BigInt(r.data.length), true);
      xv.setBigUint64(20, BigInt(headerOffset), true);
    }
    const c = new Uint8Array(46);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, z64 ? 45 : 20, true);
    cv.setUint16(6, z64 ? 45 : 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, z64 ? 0xffffffff : r.data.length, true);
    cv.setUint32(24, z64 ? 0xffffffff : r.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, cextra.length, true);
    cv.setUint32(42, z64 ? 0xffffffff : headerOffset, true);
    central.push(c, name, cextra);
  }
  const dirOffset = offset;
  for (const c of central) push(c);
  const dirSize = offset - dirOffset;
  if (options.zip64) {
    const recordOffset = offset;
    const rec = new Uint8Array(56);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setUint16(12, 45, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(records.length), true);
    rv.setBigUint64(32, BigInt(records.length), true);
    rv.setBigUint64(40, BigInt(dirSize), true);
    rv.setBigUint64(48, BigInt(dirOffset), true);
    push(rec);
    const loc = new Uint8Array(20);
    const locv = new DataView(loc.buffer);
    locv.setUint32(0, 0x07064b50, true);
    locv.setBigUint64(8, BigInt(recordOffset), true);
    locv.setUint32(16, 1, true);
    push(loc);
  }
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, options.zip64 ? 0xffff : records.length, true);
  ev.setUint16(10, options.zip64 ? 0xffff : records.length, true);
  ev.setUint32(12, options.zip64 ? 0xffffffff : dirSize, true);
  ev.setUint32(16, options.zip64 ? 0xffffffff : dirOffset, true);
  push(end);
  const out = new Uint8Array(offset);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
