// Every C function sluice calls, declared once, and the only module that
// imports koffi (the design's "FFI behind one small module"): libc's, bound
// on import, and libbpf's, bound on first use, so that what needs only libc
// (the record lock, setns) never opens libbpf.so.1.
import koffi from 'koffi';

const c = koffi.load('libc.so.6');

export const libc = {
  // glibc's syscall() moves integer registers in asm: a fixed prototype is ABI-safe and faster than a variadic one.
  syscall: c.func('long syscall(long nr, int cmd, void *attr, uint32 size)') as (nr: number, cmd: number, attr: Uint8Array, size: number) => number | bigint,
  close: c.func('int close(int fd)') as (fd: number) => number,
  setns: c.func('int setns(int fd, int nstype)') as (fd: number, nstype: number) => number,
  socket: c.func('int socket(int domain, int type, int protocol)') as (domain: number, type: number, protocol: number) => number,
  getsockopt: c.func('int getsockopt(int fd, int level, int name, _Out_ uint64_t *value, _Inout_ uint32_t *len)') as
    (fd: number, level: number, name: number, value: bigint[], len: number[]) => number,
  flock: c.func('int flock(int fd, int operation)') as (fd: number, operation: number) => number,
  mallocTrim: c.func('int malloc_trim(size_t pad)') as (pad: number) => number,
  madvise: c.func('int madvise(void *addr, size_t length, int advice)') as (addr: Uint8Array, length: number, advice: number) => number,
  getpagesize: c.func('int getpagesize(void)') as () => number,
  vsnprintf: c.func('int vsnprintf(_Out_ uint8_t *buf, size_t size, const char *format, void *args)') as
    (buf: Uint8Array, size: number, format: string, args: unknown) => number,
};

/** errno as the last call left it: read it before any other call. */
export const errno = (): number => koffi.errno();

/** Where a buffer's bytes are, for a pointer field of a kernel attr. */
export const address = (b: ArrayBufferView): bigint => koffi.address(b) as bigint;

/** Copies bytes to memory a C function handed out (at bytes past p). */
export const writeAt = (p: unknown, at: number, bytes: Uint8Array): void => koffi.encode(p, at, 'uint8_t', Array.from(bytes), bytes.length);

function bindLibbpf() {
  const lib = koffi.load('libbpf.so.1');
  koffi.opaque('bpf_object');
  koffi.opaque('bpf_program');
  koffi.opaque('bpf_map');
  koffi.struct('sl_bpf_tc_hook', { sz: 'size_t', ifindex: 'int', attach_point: 'int', parent: 'uint32' });
  koffi.struct('sl_bpf_tc_opts', { sz: 'size_t', prog_fd: 'int', flags: 'uint32', prog_id: 'uint32', handle: 'uint32', priority: 'uint32' });
  // libbpf_print_fn_t takes a printf format and a va_list, which is a pointer on x86_64.
  const printFn = koffi.proto('int sl_libbpf_print_fn(int level, const char *format, void *args)');
  const setPrint = lib.func('void *libbpf_set_print(sl_libbpf_print_fn *fn)');
  return {
    open: lib.func('bpf_object *bpf_object__open_file(const char *path, const void *opts)'),
    load: lib.func('int bpf_object__load(bpf_object *obj)'),
    close: lib.func('void bpf_object__close(bpf_object *obj)'),
    findProgram: lib.func('bpf_program *bpf_object__find_program_by_name(bpf_object *obj, const char *name)'),
    programFd: lib.func('int bpf_program__fd(bpf_program *prog)'),
    setAutoload: lib.func('int bpf_program__set_autoload(bpf_program *prog, bool autoload)'),
    setLogLevel: lib.func('int bpf_program__set_log_level(bpf_program *prog, uint32 level)'),
    setLogBuf: lib.func('int bpf_program__set_log_buf(bpf_program *prog, void *buf, size_t size)'),
    findMap: lib.func('bpf_map *bpf_object__find_map_by_name(bpf_object *obj, const char *name)'),
    mapFd: lib.func('int bpf_map__fd(bpf_map *map)'),
    setMaxEntries: lib.func('int bpf_map__set_max_entries(bpf_map *map, uint32 n)'),
    nextMap: lib.func('bpf_map *bpf_object__next_map(bpf_object *obj, bpf_map *prev)'),
    mapName: lib.func('const char *bpf_map__name(bpf_map *map)'),
    mapType: lib.func('int bpf_map__type(bpf_map *map)'),
    mapKeySize: lib.func('uint32 bpf_map__key_size(bpf_map *map)'),
    mapValueSize: lib.func('uint32 bpf_map__value_size(bpf_map *map)'),
    mapMaxEntries: lib.func('uint32 bpf_map__max_entries(bpf_map *map)'),
    mapFlags: lib.func('uint32 bpf_map__map_flags(bpf_map *map)'),
    mapPinPath: lib.func('const char *bpf_map__pin_path(bpf_map *map)'),
    mapIsInternal: lib.func('bool bpf_map__is_internal(bpf_map *map)'),
    initialValue: lib.func('void *bpf_map__initial_value(bpf_map *map, _Out_ size_t *size)'),
    hookCreate: lib.func('int bpf_tc_hook_create(sl_bpf_tc_hook *hook)'),
    hookDestroy: lib.func('int bpf_tc_hook_destroy(sl_bpf_tc_hook *hook)'),
    attach: lib.func('int bpf_tc_attach(const sl_bpf_tc_hook *hook, _Inout_ sl_bpf_tc_opts *opts)'),
    detach: lib.func('int bpf_tc_detach(const sl_bpf_tc_hook *hook, const sl_bpf_tc_opts *opts)'),
    query: lib.func('int bpf_tc_query(const sl_bpf_tc_hook *hook, _Inout_ sl_bpf_tc_opts *opts)'),
    strerror: lib.func('int libbpf_strerror(int err, _Out_ char *buf, size_t size)'),
    // bpf(2) wrappers that return -errno from C, for the commands whose errno
    // decides what sluice does (ENOENT: absent, the end of a map): errno read
    // back in JavaScript after the call may be another call's by then.
    lookupElem: lib.func('int bpf_map_lookup_elem(int fd, const void *key, void *value)') as (fd: number, key: Uint8Array, value: Uint8Array) => number,
    updateElem: lib.func('int bpf_map_update_elem(int fd, const void *key, const void *value, uint64 flags)') as
      (fd: number, key: Uint8Array, value: Uint8Array, flags: number) => number,
    deleteElem: lib.func('int bpf_map_delete_elem(int fd, const void *key)') as (fd: number, key: Uint8Array) => number,
    nextKey: lib.func('int bpf_map_get_next_key(int fd, const void *key, void *next)') as (fd: number, key: Uint8Array | null, next: Uint8Array) => number,
    lookupBatch: lib.func('int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, void *count, const void *opts)') as
      (fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array, count: Uint32Array, opts: null) => number,
    updateBatch: lib.func('int bpf_map_update_batch(int fd, const void *keys, const void *values, void *count, const void *opts)') as
      (fd: number, keys: Uint8Array, values: Uint8Array, count: Uint32Array, opts: null) => number,
    deleteBatch: lib.func('int bpf_map_delete_batch(int fd, const void *keys, void *count, const void *opts)') as
      (fd: number, keys: Uint8Array, count: Uint32Array, opts: null) => number,
    objGet: lib.func('int bpf_obj_get(const char *path)') as (path: string) => number,
    progFdById: lib.func('int bpf_prog_get_fd_by_id(uint32 id)') as (id: number) => number,
    mapFdById: lib.func('int bpf_map_get_fd_by_id(uint32 id)') as (id: number) => number,
    /** Routes libbpf's messages (printf format and va_list) to print; kept for the process's life. */
    onPrint: (print: (level: number, format: string, args: unknown) => number) => setPrint(koffi.register(print, koffi.pointer(printFn))),
  };
}

let bound: ReturnType<typeof bindLibbpf> | undefined;

/** libbpf.so.1's functions, bound on first use. */
export const libbpf = () => (bound ??= bindLibbpf());
