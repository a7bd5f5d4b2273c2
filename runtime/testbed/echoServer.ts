// The echo server of one testbed pod, run inside the pod's namespace:
//   node echoServer.ts NAMESPACE/POD TTL_SECONDS PORT...
// Listens on every PORT over TCP and UDP and answers each with one line,
// "<namespace>/<pod> <client ip>:<client port>": the address the pod saw,
// which is what source-preserving (or SNATing) service paths are tested by.
// TCP: the line on connect, again for each chunk received, until the client
// ends or is idle IDLE_MS. UDP: the line for each datagram. Prints "ready"
// once every socket listens; exits by itself after TTL_SECONDS.
import dgram from 'node:dgram';
import net from 'node:net';

const IDLE_MS = 30_000;

function listenTcp(port: number, answer: (ip: string, port: number) => string): Promise<void> {
  const server = net.createServer((s) => {
    const line = answer(s.remoteAddress ?? '?', s.remotePort ?? 0);
    s.setTimeout(IDLE_MS, () => s.destroy());
    s.on('error', () => s.destroy());
    s.on('data', () => s.write(line));
    s.on('end', () => s.end());
    s.write(line);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '0.0.0.0', backlog: 512 }, () => resolve());
  });
}

function listenUdp(port: number, answer: (ip: string, port: number) => string): Promise<void> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (_msg, from) => sock.send(answer(from.address, from.port), from.port, from.address));
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, '0.0.0.0', () => {
      sock.removeListener('error', reject);
      sock.on('error', () => {}); // an ICMP error for one reply must not end the server
      resolve();
    });
  });
}

async function main(argv: string[]): Promise<void> {
  const [name, ttlText, ...portTexts] = argv;
  const ttl = Number(ttlText), ports = portTexts.map(Number);
  if (!name || !(ttl > 0) || ports.length === 0 || !ports.every((p) => Number.isInteger(p) && p > 0 && p < 65536)) {
    throw new Error('usage: echoServer.ts NAMESPACE/POD TTL_SECONDS PORT...');
  }
  const answer = (ip: string, port: number) => `${name} ${ip}:${port}\n`;
  await Promise.all(ports.flatMap((p) => [listenTcp(p, answer), listenUdp(p, answer)]));
  setTimeout(() => process.exit(0), Math.min(ttl * 1000, 2 ** 31 - 1));
  process.stdout.write(`ready ${name} tcp+udp ${ports.join(',')}\n`);
}

main(process.argv.slice(2)).catch((e: Error) => {
  process.stdout.write(`failed: ${e.message}\n`);
  process.exit(1);
});
