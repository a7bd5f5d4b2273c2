import fc from 'fast-check';

/** A unicast IPv4 address as dotted text, in 1.0.0.0-223.255.255.255 (no 0/8, multicast or class E). */
export const ipv4Text = () =>
  fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.integer({ min: 1, max: 254 }))
    .map((b) => b.join('.'));
