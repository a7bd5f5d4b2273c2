// Where the build leaves the datapath object (bpf/Makefile), in a module of
// its own: the flags' defaults name it without loading the loader.
export const DEFAULT_OBJECT = new URL('../../build/bpf/sluice.o', import.meta.url).pathname;
