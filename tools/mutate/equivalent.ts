// Surviving mutants that no test can kill, because the mutated program
// behaves exactly as the original: each with the reason. Matched by file,
// a piece of the mutated line's text, the mutator and its replacement, and
// the column (1-based) where two mutants of a line share the rest.
export interface Equivalent { file: string; line: string; mutator: string; replacement?: string; column?: number; why: string }

export const EQUIVALENT: Equivalent[] = [
  {
    file: 'runtime/streams/normalizeEvents.ts', line: 'if (isIgnored(e.object)) return [];', mutator: 'ConditionalExpression', replacement: 'false',
    why: 'for a kind sluice does not read, refOf() is undefined and normalize() gives no record, rejection or note, so the rest of itemsOf() returns [] as well; the early return only saves the work',
  },
  {
    file: 'compiler/backends.ts', line: 'if (s.addressType != ADDR_IPV4) continue;', mutator: 'ConditionalExpression', replacement: 'false',
    why: 'readSlice (model.ts) keeps only IPv4 endpoints, so an IPv6 slice read on has no endpoint to add; the check only saves the port lookup',
  },
  {
    file: 'runtime/log/blame.ts', line: "name: c.record.name, op: 'delete' };", mutator: 'StringLiteral', replacement: '""',
    why: "encodeRecords (runtime/encode/schema.ts) writes every op other than 'upsert' as a delete, so the undo of a new object deletes it either way",
  },
  {
    file: 'runtime/log/format.ts', line: "if (!/^[0-9a-f]{8}$/.test(line.toString('latin1', 0, 8))", mutator: 'Regex',
    why: 'the text tested is always 8 characters (bytes 0 to 8 of the line), so 8 hex digits match it whole with either anchor or both',
  },
  {
    file: 'runtime/log/replayState.ts', line: "const held = new Set(upserts.flatMap((e) => (e.type === 'upsert'", mutator: 'ArrayDeclaration',
    why: 'an object\'s key is "kind/namespace/name" (refKey), so a held key of other text is nobody\'s',
  },
  {
    file: 'runtime/log/replayState.ts', line: "const held = new Set(upserts.flatMap((e) => (e.type === 'upsert'", mutator: 'ConditionalExpression', replacement: 'true',
    why: 'a delete among the snapshot\'s events deletes its object itself, whether or not its key also counts as held',
  },
  {
    file: 'runtime/log/replayState.ts', line: "const key = e.type === 'synced' ? undefined : keyOf(e.object);", mutator: 'StringLiteral',
    why: 'a synced event has no object, and keyOf(undefined) is undefined: the check is there for the type, not the value',
  },
  {
    file: 'runtime/log/replayState.ts', line: "const key = e.type === 'synced' ? undefined : keyOf(e.object);", mutator: 'ConditionalExpression', replacement: 'false',
    why: 'the same: without the check a synced event\'s key is keyOf(undefined), undefined',
  },
  {
    file: 'runtime/log/replayState.ts', line: 'for (let at = 0; at < s.upsertKeys.length; at += ks)', mutator: 'EqualityOperator', replacement: 'at <= s.upsertKeys.length',
    why: 'the one more lookup is of an empty key, which no map holds, so the count of changed entries is the same',
  },
  {
    file: 'runtime/log/replay.ts', line: 'ended = false;', mutator: 'BooleanLiteral', replacement: 'true',
    why: 'only end() reads ended, and it warns only once a header has set the state; every header sets ended = false first, and nothing outside Replay reads it',
  },
  {
    file: 'runtime/log/replay.ts', line: 'if (b.mac === undefined) this.seals.unsigned++;', mutator: 'UpdateOperator', replacement: 'this.seals.unsigned--',
    why: 'the private count starts at 0, moves only here and only one way, and is read only as === 0: after k > 0 steps it is k or -k, nonzero either way',
  },
  {
    file: 'runtime/log/replay.ts', line: 'if (this.opts.until !== undefined && b.batch > this.opts.until) {', mutator: 'ConditionalExpression', replacement: 'true',
    why: 'without --until, b.batch > undefined is false (a comparison with NaN), as the left operand already made it; with --until the left operand is true anyway',
  },
  {
    file: 'runtime/log/replay.ts', line: 'const expected = this.lastBatch === undefined || this.fresh', mutator: 'ConditionalExpression', replacement: 'false',
    why: 'lastBatch is undefined only before the first boundary, and fresh is true until then (it turns false only where lastBatch is set), so this.fresh alone gives the same',
  },
  {
    file: 'runtime/log/replay.ts', line: 'if (this.opts.until !== undefined && b.batch >= this.opts.until) this.done = true;', mutator: 'ConditionalExpression', replacement: 'true',
    why: 'without --until, b.batch >= undefined is false (a comparison with NaN), as the left operand already made it; with --until the left operand is true anyway',
  },
  {
    file: 'compiler/maglev.ts', line: 'return n == 1 ? 0 : 32 - clz<u32>(<u32>(n - 1));', mutator: 'ConditionalExpression', replacement: 'false',
    why: "for n = 1 the other arm is 32 - clz(0), and WebAssembly's i32.clz of 0 is 32: 0 either way; the guard only reads as the rule",
  },
  {
    file: 'compiler/cluster.ts', line: 'if (ports[j].nodePort != 0) { dirty.add(all[i].key); break; }', mutator: 'ConditionalExpression', replacement: 'true',
    why: "when the node's addresses change every Service is compiled again, not only those with a nodePort: one without compiles to what it was (the node's addresses reach only NodePort frontends), so the diff and the problems are the same; only the work differs",
  },
  {
    file: 'compiler/policy/body.ts', line: 'if (r.name == p.name && r.proto == p.proto) out.push(', mutator: 'ConditionalExpression', replacement: 'true', column: 33,
    why: "the API server admits no Pod with two container ports of one name, so a name resolves to one protocol and the group's resolved list (engine.ts, resolution) holds a name with the protocol its rules asked for; the name decides",
  },
  {
    file: 'compiler/ids.ts', line: 'if (a.id != b.id) return i32(a.id > b.id) - i32(a.id < b.id);', mutator: 'EqualityOperator', replacement: 'a.id <= b.id',
    why: 'the return is reached only when a.id != b.id, where a.id <= b.id and a.id < b.id are the same',
  },
  {
    file: 'compiler/policy/identities.ts', line: 'if (flipped.length > 0) this.sortedNs = null;', mutator: 'ConditionalExpression', replacement: 'true',
    why: 'sortedNs caches the sorted keys of nsCount, whose key set changes only when a namespace flips (countKey adds it to b.namespaces); dropping the cache more often rebuilds the same list',
  },
  {
    file: 'runtime/encode/normalizeEndpointSlice.ts', line: "const labels = object(object(o.metadata, 'metadata').labels, 'metadata.labels');", mutator: 'StringLiteral',
    replacement: '""', column: 64,
    why: "checkHeader (records.ts) checks every kind's metadata.labels before the kind's own normalizer runs, so labels that are not an object never reach this call and its field name is never shown",
  },
  {
    file: 'runtime/log/eventLogWriter.ts', line: "if (start === 'snapshot') header.prev = this.lastChain;", mutator: 'ConditionalExpression', replacement: 'true',
    why: "the only other start, 'empty', is opened once, by the constructor, before any boundary has set lastChain: prev is then undefined, which JSON.stringify leaves out of the header",
  },
  {
    file: 'runtime/maps/reconcile.ts', line: 'for (const map of [...MAPS].sort((a, b) => a.id - b.id)) {', mutator: 'MethodExpression',
    why: "tools/gen-abi.ts writes MAPS in the header's order, which is id order (1 to 10), so the sort leaves it as it is; it is there so that the result's order does not rest on the header's",
  },
];
