// What the compiler could not honour: each names the object and the field.
import { PROTO_SCTP, PROTO_TCP, PROTO_UDP } from './abi/records';
import * as out from './out';

export class Problem {
  constructor(public object: string, public field: string, public reason: string) {}
}

function compareProblems(a: Problem, b: Problem): i32 {
  if (a.object != b.object) return i32(a.object > b.object) - i32(a.object < b.object);
  if (a.field != b.field) return i32(a.field > b.field) - i32(a.field < b.field);
  return i32(a.reason > b.reason) - i32(a.reason < b.reason);
}

/** Writes u32 length · u32 count · (str object · str field · str reason)*, sorted. */
export function writeProblems(ps: Problem[]): usize {
  ps.sort(compareProblems);
  out.begin();
  out.putU32(0);
  out.putU32(<u32>ps.length);
  for (let i = 0; i < ps.length; i++) {
    out.str(ps[i].object);
    out.str(ps[i].field);
    out.str(ps[i].reason);
  }
  return out.finish();
}

export function ipString(ip: u32): string {
  return (ip & 0xff).toString() + '.' + ((ip >> 8) & 0xff).toString() + '.' +
    ((ip >> 16) & 0xff).toString() + '.' + (ip >> 24).toString();
}

export function protoString(p: u8): string {
  if (p == PROTO_TCP) return 'TCP';
  if (p == PROTO_UDP) return 'UDP';
  if (p == PROTO_SCTP) return 'SCTP';
  return p.toString();
}
