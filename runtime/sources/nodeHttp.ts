// node:http, taken without an ESM import. An import of it builds a namespace
// of every export, and reading three of them (WebSocket, CloseEvent,
// MessageEvent) loads Node's bundled undici: 13 MiB of RSS and about 20 ms of
// CPU at every start of the agent, for a client it never uses. The module
// object from getBuiltinModule reads none of its exports until asked.
export const http = process.getBuiltinModule('node:http');
