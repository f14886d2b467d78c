/**
 * A restricted unpickler for PyTorch state dicts. Pickle is a program: its GLOBAL and REDUCE opcodes import and
 * call arbitrary Python. This one runs only the opcodes a `torch.save(state_dict)` emits and calls only the few
 * globals that rebuild tensors and ordered dicts, as plain data constructors; everything else is refused before
 * anything is built, with the opcode and its byte offset.
 */
import { CheckpointError, isDtype, type Dtype } from './types.ts';

/** A Python tuple (kept apart from lists, whose opcodes differ). */
export class PickleTuple {
  constructor(readonly items: PickleValue[]) {}
}

/** A dict or `collections.OrderedDict`, in insertion order. */
export class PickleDict {
  readonly entries = new Map<PickleValue, PickleValue>();
}

/** A reference to an allowed global (`torch.FloatStorage`, `collections.OrderedDict`, …), not yet called. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  /** `module.name`. */
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage the pickle refers to by persistent id: the bytes live in the archive's `data/<key>` record. */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: Dtype,
    /** Elements of `dtype` the storage holds. */
    readonly numel: number,
    /** Where it was saved from (`cpu`, `cuda:0`); informational. */
    readonly location: string,
  ) {}
}

/** A tensor as `torch._utils._rebuild_tensor_v2` describes it: a view of a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    /** In elements of the storage's dtype. */
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** Every value this unpickler can produce. */
export type PickleValue = null | boolean | number | bigint | string | PickleValue[] | PickleTuple | PickleDict | PickleGlobal | StorageRef | TensorRef;

/** PyTorch's typed storages by class name, and the dtype each holds. */
export const STORAGE_DTYPES: Readonly<Record<string, Dtype>> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
  ComplexFloatStorage: 'C64',
  ComplexDoubleStorage: 'C128',
};

const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
const ORDERED_DICT = 'collections.OrderedDict';

/** The globals a state dict may name; anything else is refused. */
export const ALLOWED_GLOBALS: readonly string[] = [REBUILD_TENSOR, REBUILD_PARAMETER, ORDERED_DICT, ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`)];

/** Pickle opcodes by byte: name and, for refused ones, why they are dangerous or out of place. */
const OPCODE_NAMES: Readonly<Record<number, [string, string]>> = {
  0x80: ['PROTO', ''], 0x95: ['FRAME', ''], 0x7d: ['EMPTY_DICT', ''], 0x5d: ['EMPTY_LIST', ''], 0x29: ['EMPTY_TUPLE', ''],
  0x28: ['MARK', ''], 0x58: ['BINUNICODE', ''], 0x8c: ['SHORT_BINUNICODE', ''], 0x4a: ['BININT', ''], 0x4b: ['BININT1', ''],
  0x4d: ['BININT2', ''], 0x8a: ['LONG1', ''], 0x47: ['BINFLOAT', ''], 0x88: ['NEWTRUE', ''], 0x89: ['NEWFALSE', ''],
  0x4e: ['NONE', ''], 0x74: ['TUPLE', ''], 0x85: ['TUPLE1', ''], 0x86: ['TUPLE2', ''], 0x87: ['TUPLE3', ''],
  0x73: ['SETITEM', ''], 0x75: ['SETITEMS', ''], 0x61: ['APPEND', ''], 0x65: ['APPENDS', ''], 0x71: ['BINPUT', ''],
  0x72: ['LONG_BINPUT', ''], 0x68: ['BINGET', ''], 0x6a: ['LONG_BINGET', ''], 0x94: ['MEMOIZE', ''], 0x63: ['GLOBAL', ''],
  0x93: ['STACK_GLOBAL', ''], 0x52: ['REDUCE', ''], 0x62: ['BUILD', ''], 0x51: ['BINPERSID', ''], 0x2e: ['STOP', ''],
  0x69: ['INST', 'imports and calls a global'], 0x6f: ['OBJ', 'calls a class'], 0x81: ['NEWOBJ', 'calls a class'],
  0x92: ['NEWOBJ_EX', 'calls a class'], 0x82: ['EXT1', 'imports a registered global'], 0x83: ['EXT2', 'imports a registered global'],
  0x84: ['EXT4', 'imports a registered global'], 0x50: ['PERSID', 'text persistent id'], 0x53: ['STRING', 'protocol-0 string'],
  0x54: ['BINSTRING', 'Python 2 string'], 0x55: ['SHORT_BINSTRING', 'Python 2 string'], 0x56: ['UNICODE', 'protocol-0 string'],
  0x49: ['INT', 'protocol-0 int'], 0x4c: ['LONG', 'protocol-0 long'], 0x8b: ['LONG4', 'huge integer'], 0x46: ['FLOAT', 'protocol-0 float'],
  0x64: ['DICT', 'protocol-0 dict'], 0x6c: ['LIST', 'protocol-0 list'], 0x30: ['POP', 'not in state dicts'], 0x31: ['POP_MARK', 'not in state dicts'],
  0x32: ['DUP', 'not in state dicts'], 0x67: ['GET', 'protocol-0 memo'], 0x70: ['PUT', 'protocol-0 memo'], 0x42: ['BINBYTES', 'raw bytes'],
  0x43: ['SHORT_BINBYTES', 'raw bytes'], 0x8e: ['BINBYTES8', 'raw bytes'], 0x8d: ['BINUNICODE8', 'huge string'], 0x96: ['BYTEARRAY8', 'bytearray'],
  0x8f: ['EMPTY_SET', 'set'], 0x90: ['ADDITEMS', 'set'], 0x91: ['FROZENSET', 'frozenset'], 0x97: ['NEXT_BUFFER', 'out-of-band buffer'],
  0x98: ['READONLY_BUFFER', 'out-of-band buffer'],
};

const MARK = Symbol('mark');
type Slot = PickleValue | typeof MARK;

/**
 * Runs the pickle in `bytes` under the allow-list and returns its result. `file` names the checkpoint in messages.
 * Throws `model-error` for a forbidden opcode or global (nothing was called), `corrupt` for a malformed stream.
 */
export function unpickleStateDict(bytes: Uint8Array, file: string): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: Slot[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;
  let at = 0;

  const corrupt = (what: string): CheckpointError =>
    new CheckpointError('corrupt', `'${file}': its pickle (data.pkl) is malformed at byte ${at}: ${what}. Download or copy the file again.`);
  const forbid = (opcode: string, why: string): CheckpointError =>
    new CheckpointError('model-error', `'${file}': forbidden pickle opcode ${opcode} (${why}) at byte ${at}: the file may run code; it was not loaded. Use a safetensors copy of the weights, or re-save a plain state_dict.`);
  const need = (n: number): number => {
    if (pos + n > bytes.length) throw corrupt(`needs ${n} more bytes, but the pickle ends at byte ${bytes.length}`);
    const start = pos;
    pos += n;
    return start;
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw corrupt('the stack is empty (or only a MARK is left)');
    return v;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw corrupt('the stack is empty');
    return v;
  };
  const popMark = (): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) throw corrupt('no MARK to pop to');
    const items = stack.splice(m);
    items.shift(); // the MARK itself
    return items as PickleValue[];
  };
  const text = (n: number): string => {
    const s = need(n);
    try {
      return utf8.decode(bytes.subarray(s, s + n));
    } catch {
      throw corrupt('a string is not valid UTF-8');
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw corrupt('GLOBAL has no newline-terminated name');
    const s = text(end - pos);
    pos += 1;
    return s;
  };
  const global = (module: string, name: string, opcode: string): PickleGlobal => {
    const qualified = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.includes(qualified)) {
      throw forbid(opcode, `${qualified} is not a state-dict global; allowed: ${REBUILD_TENSOR}, ${REBUILD_PARAMETER}, ${ORDERED_DICT} and torch.*Storage`);
    }
    return new PickleGlobal(module, name);
  };
  const setItems = (dict: PickleValue, items: PickleValue[]): void => {
    if (!(dict instanceof PickleDict)) throw corrupt('SETITEM(S) on something that is not a dict');
    if (items.length % 2 !== 0) throw corrupt('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) dict.entries.set(items[i], items[i + 1]);
  };

  while (true) {
    at = pos;
    const op = bytes[need(1)];
    switch (op) {
      case 0x80: // PROTO
        if (bytes[need(1)] > 5) throw corrupt(`pickle protocol ${bytes[pos - 1]} is newer than 5`);
        break;
      case 0x95: // FRAME: a length prefix for buffering; the bytes follow inline.
        need(8);
        break;
      case 0x7d: stack.push(new PickleDict()); break;
      case 0x5d: stack.push([]); break;
      case 0x29: stack.push(new PickleTuple([])); break;
      case 0x28: marks.push(stack.length); stack.push(MARK); break;
      case 0x58: stack.push(text(view.getUint32(need(4), true))); break;
      case 0x8c: stack.push(text(bytes[need(1)])); break;
      case 0x4a: stack.push(view.getInt32(need(4), true)); break;
      case 0x4b: stack.push(bytes[need(1)]); break;
      case 0x4d: stack.push(view.getUint16(need(2), true)); break;
      case 0x8a: { // LONG1: n bytes of little-endian two's complement
        const n = bytes[need(1)];
        const s = need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[s + i]);
        if (n > 0 && bytes[s + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: stack.push(view.getFloat64(need(8), false)); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4e: stack.push(null); break;
      case 0x74: stack.push(new PickleTuple(popMark())); break;
      case 0x85: stack.push(new PickleTuple([pop()])); break;
      case 0x86: { const b = pop(); const a = pop(); stack.push(new PickleTuple([a, b])); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(new PickleTuple([a, b, c])); break; }
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; }
      case 0x75: { const items = popMark(); setItems(top(), items); break; }
      case 0x61: { const v = pop(); const list = top(); if (!Array.isArray(list)) throw corrupt('APPEND to something that is not a list'); list.push(v); break; }
      case 0x65: { const items = popMark(); const list = top(); if (!Array.isArray(list)) throw corrupt('APPENDS to something that is not a list'); list.push(...items); break; }
      case 0x71: memo.set(bytes[need(1)], top()); break;
      case 0x72: memo.set(view.getUint32(need(4), true), top()); break;
      case 0x94: memo.set(memo.size, top()); break;
      case 0x68:
      case 0x6a: {
        const key = op === 0x68 ? bytes[need(1)] : view.getUint32(need(4), true);
        if (!memo.has(key)) throw corrupt(`memo key ${key} was never stored`);
        stack.push(memo.get(key) ?? null);
        break;
      }
      case 0x63: { const module = line(); const name = line(); stack.push(global(module, name, 'GLOBAL')); break; }
      case 0x93: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw corrupt('STACK_GLOBAL without two strings');
        stack.push(global(module, name, 'STACK_GLOBAL'));
        break;
      }
      case 0x52: { // REDUCE: call an allowed constructor with a tuple of arguments
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PickleGlobal)) throw forbid('REDUCE', 'calls something that is not an allowed global');
        if (!(args instanceof PickleTuple)) throw corrupt('REDUCE arguments are not a tuple');
        stack.push(call(callable, args.items, corrupt, forbid));
        break;
      }
      case 0x62: { // BUILD: only an OrderedDict's attribute state (torch keeps `_metadata` there); it is dropped.
        pop();
        if (!(top() instanceof PickleDict)) throw forbid('BUILD', 'sets the state of an object that is not a dict');
        break;
      }
      case 0x51: stack.push(persistentLoad(pop(), corrupt, forbid)); break;
      case 0x2e: { // STOP
        const result = pop();
        if (marks.length > 0 || stack.length > 0) throw corrupt('STOP with values still on the stack');
        return result;
      }
      default: {
        const known = OPCODE_NAMES[op];
        if (known) throw forbid(known[0], `0x${op.toString(16).padStart(2, '0')}: ${known[1]}`);
        throw forbid(`0x${op.toString(16).padStart(2, '0')}`, 'not a pickle opcode');
      }
    }
  }
}

type Fail = (what: string) => CheckpointError;
type Forbid = (opcode: string, why: string) => CheckpointError;

function call(fn: PickleGlobal, args: PickleValue[], corrupt: Fail, forbid: Forbid): PickleValue {
  switch (fn.qualified) {
    case ORDERED_DICT:
      if (args.length !== 0) throw corrupt(`${ORDERED_DICT} called with ${args.length} arguments (a state dict passes none)`);
      return new PickleDict();
    case REBUILD_PARAMETER: {
      const [data] = args;
      if (!(data instanceof TensorRef)) throw corrupt(`${REBUILD_PARAMETER} called on something that is not a tensor`);
      return data;
    }
    case REBUILD_TENSOR: {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      const [storage, offset, size, stride] = args;
      if (args.length < 6 || args.length > 7) throw corrupt(`${REBUILD_TENSOR} called with ${args.length} arguments, expected 6 or 7`);
      if (!(storage instanceof StorageRef)) throw corrupt(`${REBUILD_TENSOR}'s first argument is not a storage`);
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw corrupt(`${REBUILD_TENSOR} has storage offset ${String(offset)}`);
      return new TensorRef(storage, offset, intTuple(size, 'size', corrupt), intTuple(stride, 'stride', corrupt));
    }
    default:
      throw forbid('REDUCE', `calls ${fn.qualified}, which is not a constructor`);
  }
}

function intTuple(value: PickleValue, what: string, corrupt: Fail): number[] {
  if (!(value instanceof PickleTuple) || !value.items.every((v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    throw corrupt(`a tensor's ${what} is not a tuple of non-negative integers`);
  }
  return value.items;
}

/** ('storage', torch.XStorage, key, location, numel) → a reference to the archive record `data/<key>`. */
function persistentLoad(pid: PickleValue, corrupt: Fail, forbid: Forbid): StorageRef {
  if (!(pid instanceof PickleTuple) || pid.items[0] !== 'storage') throw forbid('BINPERSID', 'a persistent id that is not a torch storage');
  const [, type, key, location, numel] = pid.items;
  if (pid.items.length !== 5 || !(type instanceof PickleGlobal) || typeof key !== 'string' || typeof location !== 'string') {
    throw corrupt("a storage id is not ('storage', type, key, location, numel)");
  }
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw corrupt(`storage '${key}' has element count ${String(numel)}`);
  const dtype = type.module === 'torch' ? STORAGE_DTYPES[type.name] : undefined;
  if (!isDtype(dtype)) throw corrupt(`storage '${key}' has type ${type.qualified}, which is not a storage type`);
  return new StorageRef(key, dtype, numel, location);
}
