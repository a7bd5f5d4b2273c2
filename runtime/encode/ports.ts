// Protocols and port names as the Kubernetes API validates them.
import * as R from '../../compiler/abi/records.ts';
import { integer, Invalid, oneOf, shown, string } from './fields.ts';

const PROTOCOLS = { TCP: R.PROTO_TCP, UDP: R.PROTO_UDP, SCTP: R.PROTO_SCTP } as const;
const PROTOCOL_NAMES = Object.keys(PROTOCOLS) as (keyof typeof PROTOCOLS)[];

/** A PROTO_* number; absent means TCP, as the API server defaults it. */
export function protocol(v: unknown, field: string): number {
  return PROTOCOLS[oneOf(v, field, PROTOCOL_NAMES, 'TCP')];
}

/** A port number 1-65535, or undefined when absent. */
export function port(v: unknown, field: string): number | undefined {
  return integer(v, field, 1, 65535);
}

/** IANA_SVC_NAME: at most 15 of a-z 0-9 -, a letter somewhere, hyphens only inside and never doubled. */
export function isPortName(s: string): boolean {
  return /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(s) && /[a-z]/.test(s) && !s.includes('--');
}

/** A port name, "" when absent. */
export function portName(v: unknown, field: string): string {
  const s = string(v, field);
  if (s !== '' && !isPortName(s)) throw new Invalid(field, `${shown(s)} is not a valid port name`);
  return s;
}

/** An IntOrString port: a number 1-65535 or a port name; [0, ""] when absent. */
export function numberOrName(v: unknown, field: string): [port: number, name: string] {
  if (typeof v === 'string') {
    if (!isPortName(v)) throw new Invalid(field, `${shown(v)} is not a port number or a valid port name`);
    return [0, v];
  }
  return [port(v, field) ?? 0, ''];
}
