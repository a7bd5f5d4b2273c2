// Surviving mutants that no test can kill, because the mutated program
// behaves exactly as the original: each with the reason. Matched by file,
// a piece of the mutated line's text, the mutator and its replacement.
export interface Equivalent { file: string; line: string; mutator: string; replacement?: string; why: string }

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
];
